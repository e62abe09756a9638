//! Footfall queries with hand-computed expectations: daylight-saving days,
//! half- and three-quarter-hour zones, month and week boundaries, ranges
//! starting mid-bucket; multi-site, per-device, comparison and CSV.

use footfall_e2e::{Tenant, TestApp, rfc3339, spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// A site with one people counter; returns (site id, serial number).
async fn counter(app: &TestApp, t: &Tenant, timezone: &str) -> (String, String) {
    let site = app.create_site(&t.token, timezone, timezone).await;
    let sn = unique_sn();
    app.bind_device(&t.token, &sn, &site, "people_counter").await;
    (site, sn)
}

/// `n` people in the minute starting at `at` (RFC 3339).
async fn people(app: &TestApp, sn: &str, at: &str, n: u64) {
    let t = utc(at);
    let ack = app
        .upload(json!({"sn": sn, "startTime": t, "endTime": t + 60, "in": n, "out": 0, "passby": 0, "turnback": 0}))
        .await;
    assert_eq!(ack["code"], 0, "{ack}");
}

async fn query(app: &TestApp, t: &Tenant, site: &str, from: &str, to: &str, granularity: &str) -> Value {
    app.footfall(&t.token, site, utc(from), utc(to), granularity).await
}

fn ins(ff: &Value) -> Vec<u64> {
    ff["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["in"].as_u64().unwrap())
        .collect()
}

fn starts(ff: &Value) -> Vec<String> {
    ff["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap().to_string())
        .collect()
}

fn total_in(ff: &Value) -> u64 {
    let total = ff["totals"]["in"].as_u64().unwrap();
    assert_eq!(total, ins(ff).iter().sum::<u64>(), "totals are the sum of the buckets");
    total
}

#[tokio::test]
async fn new_york_spring_forward_has_23_hours() {
    let app = spawn_app().await;
    let t = app.signup("NY").await;
    let (site, sn) = counter(&app, &t, "America/New_York").await;
    people(&app, &sn, "2026-03-08T01:30:00-05:00", 5).await; // 06:30Z
    people(&app, &sn, "2026-03-08T03:10:00-04:00", 7).await; // 07:10Z, an hour later in real time
    people(&app, &sn, "2026-03-08T23:59:00-04:00", 1).await;
    people(&app, &sn, "2026-03-09T00:00:00-04:00", 100).await; // the next day

    let ff = query(
        &app,
        &t,
        &site,
        "2026-03-08T00:00:00-05:00",
        "2026-03-09T00:00:00-04:00",
        "HOUR",
    )
    .await;
    let s = starts(&ff);
    assert_eq!(s.len(), 23);
    assert_eq!(s[1], "2026-03-08T01:00:00-05:00");
    assert_eq!(s[2], "2026-03-08T03:00:00-04:00");
    let mut expected = vec![0u64; 23];
    expected[1] = 5;
    expected[2] = 7;
    expected[22] = 1;
    assert_eq!(ins(&ff), expected);
    assert_eq!(total_in(&ff), 13);

    let day = query(
        &app,
        &t,
        &site,
        "2026-03-08T00:00:00-05:00",
        "2026-03-09T00:00:00-04:00",
        "DAY",
    )
    .await;
    assert_eq!(starts(&day), ["2026-03-08T00:00:00-05:00"]);
    assert_eq!(day["buckets"][0]["end"], "2026-03-09T00:00:00-04:00");
    assert_eq!(total_in(&day), 13);
}

#[tokio::test]
async fn new_york_fall_back_has_25_hours() {
    let app = spawn_app().await;
    let t = app.signup("NY").await;
    let (site, sn) = counter(&app, &t, "America/New_York").await;
    people(&app, &sn, "2026-11-01T01:30:00-04:00", 3).await; // the first 01:30
    people(&app, &sn, "2026-11-01T01:30:00-05:00", 4).await; // the second
    people(&app, &sn, "2026-11-01T02:15:00-05:00", 2).await;

    let ff = query(
        &app,
        &t,
        &site,
        "2026-11-01T00:00:00-04:00",
        "2026-11-02T00:00:00-05:00",
        "HOUR",
    )
    .await;
    let s = starts(&ff);
    assert_eq!(s.len(), 25);
    assert_eq!(s[1], "2026-11-01T01:00:00-04:00");
    assert_eq!(s[2], "2026-11-01T01:00:00-05:00");
    assert_eq!(s[3], "2026-11-01T02:00:00-05:00");
    assert_eq!(&ins(&ff)[..4], [0, 3, 4, 2]);
    assert_eq!(total_in(&ff), 9);
    let day = query(
        &app,
        &t,
        &site,
        "2026-11-01T00:00:00-04:00",
        "2026-11-02T00:00:00-05:00",
        "DAY",
    )
    .await;
    assert_eq!(ins(&day), [9]);
}

#[tokio::test]
async fn london_days_follow_british_summer_time() {
    let app = spawn_app().await;
    let t = app.signup("London").await;
    let (site, sn) = counter(&app, &t, "Europe/London").await;
    people(&app, &sn, "2026-03-29T23:30:00Z", 6).await; // 00:30 BST on the 30th
    people(&app, &sn, "2026-03-29T22:30:00Z", 2).await; // 23:30 BST on the 29th
    people(&app, &sn, "2026-03-28T23:30:00Z", 1).await; // 23:30 GMT on the 28th

    let ff = query(&app, &t, &site, "2026-03-28T00:00:00Z", "2026-03-30T23:00:00Z", "DAY").await;
    assert_eq!(
        starts(&ff),
        [
            "2026-03-28T00:00:00+00:00",
            "2026-03-29T00:00:00+00:00",
            "2026-03-30T00:00:00+01:00"
        ]
    );
    assert_eq!(ins(&ff), [1, 2, 6]);
    // The 29th, when clocks went forward, had 23 hours.
    let hours = query(&app, &t, &site, "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", "HOUR").await;
    assert_eq!(starts(&hours).len(), 23);
}

#[tokio::test]
async fn kolkata_and_kathmandu_days_start_at_their_own_midnight() {
    let app = spawn_app().await;
    let t = app.signup("Asia").await;
    let (kolkata, sn) = counter(&app, &t, "Asia/Kolkata").await;
    people(&app, &sn, "2026-06-01T18:20:00Z", 3).await; // 23:50 IST, June 1
    people(&app, &sn, "2026-06-01T18:40:00Z", 4).await; // 00:10 IST, June 2
    let ff = query(
        &app,
        &t,
        &kolkata,
        "2026-06-01T00:00:00+05:30",
        "2026-06-03T00:00:00+05:30",
        "DAY",
    )
    .await;
    assert_eq!(starts(&ff), ["2026-06-01T00:00:00+05:30", "2026-06-02T00:00:00+05:30"]);
    assert_eq!(ins(&ff), [3, 4]);
    let hours = query(
        &app,
        &t,
        &kolkata,
        "2026-06-01T23:00:00+05:30",
        "2026-06-02T01:00:00+05:30",
        "HOUR",
    )
    .await;
    assert_eq!(
        starts(&hours),
        ["2026-06-01T23:00:00+05:30", "2026-06-02T00:00:00+05:30"]
    );
    assert_eq!(ins(&hours), [3, 4]);

    let (kathmandu, sn) = counter(&app, &t, "Asia/Kathmandu").await;
    people(&app, &sn, "2026-06-01T18:10:00Z", 5).await; // 23:55 NPT, June 1
    people(&app, &sn, "2026-06-01T18:15:00Z", 6).await; // 00:00 NPT, June 2
    let ff = query(
        &app,
        &t,
        &kathmandu,
        "2026-06-01T00:00:00+05:45",
        "2026-06-03T00:00:00+05:45",
        "DAY",
    )
    .await;
    assert_eq!(starts(&ff), ["2026-06-01T00:00:00+05:45", "2026-06-02T00:00:00+05:45"]);
    assert_eq!(ins(&ff), [5, 6]);
    let quarters = query(
        &app,
        &t,
        &kathmandu,
        "2026-06-01T23:45:00+05:45",
        "2026-06-02T00:15:00+05:45",
        "QUARTER_HOUR",
    )
    .await;
    assert_eq!(ins(&quarters), [5, 6]);
}

#[tokio::test]
async fn months_weeks_and_ranges_starting_mid_bucket() {
    let app = spawn_app().await;
    let t = app.signup("Calendar").await;
    let (site, sn) = counter(&app, &t, "Europe/London").await;
    people(&app, &sn, "2026-02-28T23:59:00Z", 2).await; // last minute of February
    people(&app, &sn, "2026-03-01T00:00:00Z", 3).await; // first minute of March
    people(&app, &sn, "2026-03-31T23:30:00Z", 4).await; // 00:30 BST on April 1
    let months = query(&app, &t, &site, "2026-02-10T00:00:00Z", "2026-04-10T00:00:00Z", "MONTH").await;
    assert_eq!(
        starts(&months),
        [
            "2026-02-01T00:00:00+00:00",
            "2026-03-01T00:00:00+00:00",
            "2026-04-01T00:00:00+01:00"
        ]
    );
    assert_eq!(ins(&months), [2, 3, 4]);

    // Weeks start on Monday: 2026-03-02 is one.
    let weeks = query(&app, &t, &site, "2026-02-25T12:00:00Z", "2026-03-03T00:00:00Z", "WEEK").await;
    assert_eq!(
        starts(&weeks),
        ["2026-02-23T00:00:00+00:00", "2026-03-02T00:00:00+00:00"]
    );
    assert_eq!(ins(&weeks), [5, 0]);

    // A range starting mid-bucket covers the whole bucket.
    people(&app, &sn, "2026-05-05T10:05:00Z", 8).await; // 11:05 BST
    let hours = query(&app, &t, &site, "2026-05-05T10:20:00Z", "2026-05-05T11:00:00Z", "HOUR").await;
    assert_eq!(starts(&hours), ["2026-05-05T11:00:00+01:00"]);
    assert_eq!(hours["from"], "2026-05-05T11:00:00+01:00");
    assert_eq!(ins(&hours), [8]);
}

#[tokio::test]
async fn changing_a_sites_timezone_regroups_its_days() {
    let app = spawn_app().await;
    let t = app.signup("Moving").await;
    let (site, sn) = counter(&app, &t, "UTC").await;
    people(&app, &sn, "2026-06-01T20:00:00Z", 5).await; // June 1 in UTC, June 2 in Kolkata
    let ff = query(&app, &t, &site, "2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z", "DAY").await;
    assert_eq!(ins(&ff), [5, 0]);
    let a = app
        .patch(
            &format!("/api/v1/sites/{site}"),
            &t.token,
            json!({"timezone": "Asia/Kolkata"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let ff = query(
        &app,
        &t,
        &site,
        "2026-06-01T00:00:00+05:30",
        "2026-06-03T00:00:00+05:30",
        "DAY",
    )
    .await;
    assert_eq!(starts(&ff), ["2026-06-01T00:00:00+05:30", "2026-06-02T00:00:00+05:30"]);
    assert_eq!(ins(&ff), [0, 5]);
}

#[tokio::test]
async fn several_sites_devices_comparison_and_csv() {
    let app = spawn_app().await;
    let t = app.signup("Chain").await;
    let (london, a) = counter(&app, &t, "Europe/London").await;
    let (tokyo, b) = counter(&app, &t, "Asia/Tokyo").await;
    let second = unique_sn();
    let second_id = app.bind_device(&t.token, &second, &london, "people_counter").await["id"].clone();
    people(&app, &a, "2026-04-14T10:00:00Z", 10).await; // this week (Mon 13th)
    people(&app, &second, "2026-04-14T11:00:00Z", 30).await;
    people(&app, &a, "2026-04-07T10:00:00Z", 8).await; // last week
    people(&app, &b, "2026-04-14T01:00:00Z", 7).await;

    // Monday 13 to Monday 20 April, London time (BST, +01:00).
    let (from, to) = (utc("2026-04-13T00:00:00+01:00"), utc("2026-04-20T00:00:00+01:00"));
    let path = format!(
        "/api/v1/footfall?from={}&to={}&granularity=DAY",
        rfc3339(from),
        rfc3339(to)
    );
    let all = app.get(&path, &t.token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["sites"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["totals"]["in"], 47);
    let only = app.get(&format!("{path}&siteIds={tokyo}"), &t.token).await;
    assert_eq!(only.body["sites"][0]["timezone"], "Asia/Tokyo");
    assert_eq!(only.body["totals"]["in"], 7);

    let devices = app
        .get(
            &format!(
                "/api/v1/sites/{london}/footfall/devices?from={}&to={}&granularity=DAY",
                rfc3339(from),
                rfc3339(to)
            ),
            &t.token,
        )
        .await;
    assert_eq!(devices.status, StatusCode::OK, "{}", devices.text);
    assert_eq!(devices.body[0]["deviceId"], second_id, "largest first");
    assert_eq!(devices.body[0]["in"], 30);
    assert_eq!(devices.body[1]["sn"], a.as_str());
    assert_eq!(devices.body[1]["in"], 10);

    let cmp = app
        .get(
            &format!(
                "/api/v1/sites/{london}/footfall/compare?from={}&to={}&granularity=WEEK",
                rfc3339(from),
                rfc3339(to)
            ),
            &t.token,
        )
        .await;
    assert_eq!(cmp.status, StatusCode::OK, "{}", cmp.text);
    assert_eq!(cmp.body["current"]["totals"]["in"], 40);
    assert_eq!(cmp.body["previous"]["totals"]["in"], 8);
    assert_eq!(cmp.body["previous"]["from"], "2026-04-06T00:00:00+01:00");
    assert_eq!(cmp.body["change"]["in"], 32);
    assert_eq!(cmp.body["change"]["inRatio"], 4.0);

    let g = app
        .graphql(
            Some(&t.token),
            "query($s: ID!, $f: DateTime!, $t: DateTime!) {
               compareFootfall(siteId: $s, granularity: WEEK, from: $f, to: $t) { change { in inRatio } }
               footfallBySites(from: $f, to: $t, granularity: DAY) { totals { in } sites { timezone totals { in } } }
               footfall(siteId: $s, from: $f, to: $t, granularity: DAY) { devices { sn totals { in } } }
             }",
            json!({"s": london, "f": rfc3339(from), "t": rfc3339(to)}),
        )
        .await;
    assert!(g.body.get("errors").is_none(), "{}", g.text);
    assert_eq!(g.body["data"]["compareFootfall"]["change"]["in"], 32);
    assert_eq!(g.body["data"]["footfallBySites"]["totals"]["in"], 47);
    assert_eq!(g.body["data"]["footfall"]["devices"][0]["sn"], second.as_str());

    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/sites/{london}/footfall.csv?from={}&to={}&granularity=DAY",
            rfc3339(from),
            rfc3339(to)
        )))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("start,end,in,out,passby,turnback"));
    assert_eq!(lines.len(), 1 + 7, "a header and seven days");
    assert!(
        lines[2].starts_with("2026-04-14T00:00:00+01:00,2026-04-15T00:00:00+01:00,40,0,0,0"),
        "{csv}"
    );
}

#[tokio::test]
async fn another_tenants_sites_stay_out_of_every_footfall_query() {
    let app = spawn_app().await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    let (site_a, sn) = counter(&app, &a, "UTC").await;
    let (site_b, _) = counter(&app, &b, "UTC").await;
    people(&app, &sn, "2026-04-14T10:00:00Z", 10).await;
    let range = format!(
        "from={}&to={}&granularity=DAY",
        rfc3339(utc("2026-04-13T00:00:00Z")),
        rfc3339(utc("2026-04-20T00:00:00Z"))
    );
    for path in [
        format!("/api/v1/sites/{site_a}/footfall?{range}"),
        format!("/api/v1/sites/{site_a}/footfall.csv?{range}"),
        format!("/api/v1/sites/{site_a}/footfall/devices?{range}"),
        format!("/api/v1/sites/{site_a}/footfall/compare?{range}"),
        format!("/api/v1/footfall?{range}&siteIds={site_a}"),
        format!("/api/v1/footfall?{range}&siteIds={site_b},{site_a}"),
    ] {
        let answer = app.get(&path, &b.token).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.text);
    }
    let mine = app.get(&format!("/api/v1/footfall?{range}"), &b.token).await;
    assert_eq!(mine.body["sites"].as_array().unwrap().len(), 1, "only B's own site");
    assert_eq!(mine.body["totals"]["in"], 0);
    let g = app
        .graphql(
            Some(&b.token),
            "query($s: [ID!], $f: DateTime!, $t: DateTime!) { footfallBySites(siteIds: $s, from: $f, to: $t, granularity: DAY) { totals { in } } }",
            json!({"s": [site_a], "f": "2026-04-13T00:00:00Z", "t": "2026-04-20T00:00:00Z"}),
        )
        .await;
    assert_eq!(g.body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{}", g.text);
    let g = app
        .graphql(
            Some(&b.token),
            "query($s: ID!) { compareFootfall(siteId: $s, granularity: DAY, from: \"2026-04-13T00:00:00Z\", to: \"2026-04-14T00:00:00Z\") { change { in } } }",
            json!({"s": site_a}),
        )
        .await;
    assert_eq!(g.body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{}", g.text);
}
