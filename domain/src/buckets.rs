//! Footfall buckets in a site's own timezone.
//!
//! Counts are stored per 15-minute UTC bucket. Every real timezone offset is a
//! multiple of 15 minutes, so every local quarter hour, hour, day, week and
//! month starts on a stored bucket boundary, and a query's buckets are exact
//! sums of stored ones. Hours are real hours: a day when clocks go back has
//! 25 of them (two labelled 01:00, with different offsets), a day when they go
//! forward 23. Days start at the site's midnight, also in +05:30 or +05:45.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, LocalResult, Months, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::{Invalid, Timezone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    QuarterHour,
    Hour,
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
}

impl Granularity {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_uppercase().replace(['-', ' '], "_").as_str() {
            "QUARTER_HOUR" | "15M" | "15MIN" => Ok(Granularity::QuarterHour),
            "HOUR" | "HOURLY" | "1H" => Ok(Granularity::Hour),
            "DAY" | "DAILY" | "1D" => Ok(Granularity::Day),
            "WEEK" | "WEEKLY" => Ok(Granularity::Week),
            "MONTH" | "MONTHLY" => Ok(Granularity::Month),
            _ => Err(Invalid::new(
                "granularity",
                format!("unknown granularity {s:?}; expected QUARTER_HOUR, HOUR, DAY, WEEK or MONTH"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::QuarterHour => "QUARTER_HOUR",
            Granularity::Hour => "HOUR",
            Granularity::Day => "DAY",
            Granularity::Week => "WEEK",
            Granularity::Month => "MONTH",
        }
    }
}

/// Most buckets one query may ask for (a year of quarter hours fits).
pub const MAX_BUCKETS: usize = 40_000;

/// The range queries may cover: 2000-01-01 to 2100-01-01.
const EARLIEST: i64 = 946_684_800;
const LATEST: i64 = 4_102_444_800;

/// One bucket: `[start, end)`, both carrying the site's offset at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

impl Bucket {
    pub fn start_unix(&self) -> i64 {
        self.start.timestamp()
    }

    pub fn end_unix(&self) -> i64 {
        self.end.timestamp()
    }
}

/// The buckets covering `[from, to)` in `tz`: `from` is moved back to the start
/// of its bucket, `to` forward to the end of its bucket.
pub fn buckets(
    tz: Timezone,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Bucket>, Invalid> {
    if from >= to {
        return Err(Invalid::new("from", "must be before `to`"));
    }
    for (field, t) in [("from", from), ("to", to)] {
        if !(EARLIEST..LATEST).contains(&t.timestamp()) {
            return Err(Invalid::new(field, "must be between 2000-01-01 and 2100-01-01"));
        }
    }
    let tz = tz.tz();
    let mut start = floor(tz, granularity, from);
    let mut out = Vec::new();
    while start < to {
        let end = next(tz, granularity, start);
        out.push(Bucket {
            start: start.with_timezone(&tz).fixed_offset(),
            end: end.with_timezone(&tz).fixed_offset(),
        });
        if out.len() > MAX_BUCKETS {
            return Err(Invalid::new(
                "granularity",
                format!("the range needs more than {MAX_BUCKETS} buckets; choose a coarser granularity"),
            ));
        }
        start = end;
    }
    Ok(out)
}

/// The instant (Unix seconds) of the local midnight that starts the day
/// containing `t` in `tz`; daily rollups are keyed by it.
pub fn day_start(tz: Timezone, t: i64) -> i64 {
    match DateTime::from_timestamp(t, 0) {
        Some(at) => floor(tz.tz(), Granularity::Day, at).timestamp(),
        None => t,
    }
}

/// The start of the bucket containing `t`.
fn floor(tz: Tz, granularity: Granularity, t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&tz);
    let offset = local.offset().fix().local_minus_utc() as i64;
    let unit = match granularity {
        Granularity::QuarterHour => 900,
        Granularity::Hour => 3600,
        Granularity::Day => return local_midnight(tz, local.date_naive()),
        Granularity::Week => {
            let date = local.date_naive();
            let monday = date - Days::new(u64::from(date.weekday().num_days_from_monday()));
            return local_midnight(tz, monday);
        }
        Granularity::Month => return local_midnight(tz, first_of_month(local.date_naive())),
    };
    // Floor the local wall clock, keeping the offset in force at `t`.
    let wall = t.timestamp() + offset;
    let floored = wall - wall.rem_euclid(unit) - offset;
    DateTime::from_timestamp(floored, 0).unwrap_or(t)
}

/// The start of the bucket after the one starting at `start`.
fn next(tz: Tz, granularity: Granularity, start: DateTime<Utc>) -> DateTime<Utc> {
    let local_date = start.with_timezone(&tz).date_naive();
    let candidate = match granularity {
        Granularity::QuarterHour => start + TimeDelta::minutes(15),
        // Real hours; realigned to the local hour where an offset change is
        // not a whole hour (Lord Howe's 30-minute DST).
        Granularity::Hour => {
            let step = start + TimeDelta::hours(1);
            let aligned = floor(tz, Granularity::Hour, step);
            if aligned > start { aligned } else { step }
        }
        Granularity::Day => local_midnight(tz, local_date + Days::new(1)),
        Granularity::Week => local_midnight(tz, local_date + Days::new(7)),
        Granularity::Month => local_midnight(tz, first_of_month(local_date) + Months::new(1)),
    };
    if candidate > start {
        candidate
    } else {
        start + TimeDelta::minutes(15)
    }
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The first instant of `date` in `tz`: midnight, or where midnight does not
/// exist (a DST change at midnight) the first minute that does.
fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut wall = date.and_time(NaiveTime::MIN);
    for _ in 0..(24 * 4) {
        match tz.from_local_datetime(&wall) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => wall += TimeDelta::minutes(15),
        }
    }
    date.and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn starts(zone: &str, g: Granularity, from: &str, to: &str) -> Vec<String> {
        buckets(Timezone::parse(zone).unwrap(), g, utc(from), utc(to))
            .unwrap()
            .iter()
            .map(|b| b.start.to_rfc3339())
            .collect()
    }

    #[test]
    fn new_york_spring_forward_has_23_hours() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        let hours = starts(
            "America/New_York",
            Granularity::Hour,
            "2026-03-08T05:00:00Z",
            "2026-03-09T04:00:00Z",
        );
        assert_eq!(hours.len(), 23);
        assert_eq!(hours[0], "2026-03-08T00:00:00-05:00");
        assert_eq!(hours[1], "2026-03-08T01:00:00-05:00");
        assert_eq!(hours[2], "2026-03-08T03:00:00-04:00");
        assert_eq!(hours[22], "2026-03-08T23:00:00-04:00");
        let days = starts(
            "America/New_York",
            Granularity::Day,
            "2026-03-08T05:00:00Z",
            "2026-03-09T04:00:00Z",
        );
        assert_eq!(days, ["2026-03-08T00:00:00-05:00"]);
    }

    #[test]
    fn new_york_fall_back_has_25_hours() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST.
        let hours = starts(
            "America/New_York",
            Granularity::Hour,
            "2026-11-01T04:00:00Z",
            "2026-11-02T05:00:00Z",
        );
        assert_eq!(hours.len(), 25);
        assert_eq!(hours[1], "2026-11-01T01:00:00-04:00");
        assert_eq!(hours[2], "2026-11-01T01:00:00-05:00");
        assert_eq!(hours[3], "2026-11-01T02:00:00-05:00");
        let days = buckets(
            Timezone::parse("America/New_York").unwrap(),
            Granularity::Day,
            utc("2026-11-01T04:00:00Z"),
            utc("2026-11-02T05:00:00Z"),
        )
        .unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].end_unix() - days[0].start_unix(), 25 * 3600);
    }

    #[test]
    fn london_days_around_the_clock_change() {
        // Ends at midnight BST on the 31st, 23:00 UTC.
        let days = starts(
            "Europe/London",
            Granularity::Day,
            "2026-03-28T00:00:00Z",
            "2026-03-30T23:00:00Z",
        );
        assert_eq!(
            days,
            [
                "2026-03-28T00:00:00+00:00",
                "2026-03-29T00:00:00+00:00",
                "2026-03-30T00:00:00+01:00"
            ]
        );
    }

    #[test]
    fn half_and_three_quarter_hour_zones_start_at_their_own_midnight() {
        // 2026-06-01T00:00Z is 05:30 on June 1 in Kolkata; the day began at 18:30Z.
        let kolkata = starts(
            "Asia/Kolkata",
            Granularity::Day,
            "2026-06-01T00:00:00Z",
            "2026-06-01T18:30:00Z",
        );
        assert_eq!(kolkata, ["2026-06-01T00:00:00+05:30"]);
        let b = buckets(
            Timezone::parse("Asia/Kolkata").unwrap(),
            Granularity::Day,
            utc("2026-06-01T00:00:00Z"),
            utc("2026-06-01T18:30:00Z"),
        )
        .unwrap();
        assert_eq!(b[0].start_unix(), utc("2026-05-31T18:30:00Z").timestamp());
        let kathmandu = starts(
            "Asia/Kathmandu",
            Granularity::Hour,
            "2026-06-01T00:00:00Z",
            "2026-06-01T02:00:00Z",
        );
        assert_eq!(
            kathmandu,
            [
                "2026-06-01T05:00:00+05:45",
                "2026-06-01T06:00:00+05:45",
                "2026-06-01T07:00:00+05:45"
            ]
        );
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let weeks = starts(
            "Europe/London",
            Granularity::Week,
            "2026-11-04T12:00:00Z",
            "2026-11-17T00:00:00Z",
        );
        assert_eq!(
            weeks,
            [
                "2026-11-02T00:00:00+00:00",
                "2026-11-09T00:00:00+00:00",
                "2026-11-16T00:00:00+00:00"
            ]
        );
        let months = starts(
            "America/New_York",
            Granularity::Month,
            "2026-01-15T00:00:00Z",
            "2026-04-01T00:00:00Z",
        );
        // 2026-04-01T00:00Z is still March 31 in New York.
        assert_eq!(
            months,
            [
                "2026-01-01T00:00:00-05:00",
                "2026-02-01T00:00:00-05:00",
                "2026-03-01T00:00:00-05:00"
            ]
        );
    }

    #[test]
    fn a_range_starting_mid_bucket_covers_the_whole_bucket() {
        let b = buckets(
            Timezone::parse("UTC").unwrap(),
            Granularity::Hour,
            utc("2026-05-01T10:20:00Z"),
            utc("2026-05-01T11:05:00Z"),
        )
        .unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].start.to_rfc3339(), "2026-05-01T10:00:00+00:00");
        assert_eq!(b[1].end.to_rfc3339(), "2026-05-01T12:00:00+00:00");
    }

    #[test]
    fn every_boundary_is_a_stored_quarter_hour() {
        for zone in [
            "Asia/Kathmandu",
            "Asia/Kolkata",
            "America/St_Johns",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
        ] {
            for g in [
                Granularity::Hour,
                Granularity::Day,
                Granularity::Week,
                Granularity::Month,
            ] {
                let all = buckets(
                    Timezone::parse(zone).unwrap(),
                    g,
                    utc("2026-01-01T00:00:00Z"),
                    utc("2027-01-01T00:00:00Z"),
                )
                .unwrap();
                for b in &all {
                    assert_eq!(b.start_unix() % 900, 0, "{zone} {g:?} {}", b.start);
                    assert!(b.end > b.start);
                }
                for pair in all.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "{zone} {g:?}: contiguous");
                }
            }
        }
    }

    #[test]
    fn day_starts() {
        let kolkata = Timezone::parse("Asia/Kolkata").unwrap();
        // 2026-06-01T20:00Z is 01:30 on June 2 in Kolkata, whose day began at 18:30Z.
        assert_eq!(
            day_start(kolkata, utc("2026-06-01T20:00:00Z").timestamp()),
            utc("2026-06-01T18:30:00Z").timestamp()
        );
        let ny = Timezone::parse("America/New_York").unwrap();
        assert_eq!(
            day_start(ny, utc("2026-11-01T12:00:00Z").timestamp()),
            utc("2026-11-01T04:00:00Z").timestamp()
        );
    }

    #[test]
    fn bad_ranges() {
        let utc_tz = Timezone::parse("UTC").unwrap();
        assert!(
            buckets(
                utc_tz,
                Granularity::Day,
                utc("2026-05-02T00:00:00Z"),
                utc("2026-05-01T00:00:00Z")
            )
            .is_err()
        );
        assert!(
            buckets(
                utc_tz,
                Granularity::QuarterHour,
                utc("2020-01-01T00:00:00Z"),
                utc("2026-01-01T00:00:00Z")
            )
            .is_err()
        );
        assert_eq!(Granularity::parse("quarter_hour").unwrap(), Granularity::QuarterHour);
        assert_eq!(Granularity::parse("Day").unwrap(), Granularity::Day);
        assert!(Granularity::parse("minute").is_err());
        let far = DateTime::from_timestamp(8_000_000_000_000, 0).unwrap();
        assert_eq!(
            buckets(utc_tz, Granularity::Day, utc("2026-01-01T00:00:00Z"), far)
                .unwrap_err()
                .field,
            "to"
        );
        let early = DateTime::from_timestamp(-8_000_000_000_000, 0).unwrap();
        assert_eq!(
            buckets(utc_tz, Granularity::Month, early, utc("2026-01-01T00:00:00Z"))
                .unwrap_err()
                .field,
            "from"
        );
    }
}
