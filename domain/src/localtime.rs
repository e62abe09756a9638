//! Wall-clock times devices send without an offset (`"2021-07-16 00:00:00"`,
//! or the IPC TLV's PTS: milliseconds of local wall clock since 1970), read
//! in the zone of the device's site.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone};

use crate::Timezone;

/// Parses `YYYY-MM-DD hh:mm:ss` as devices write it; also accepts a `T`
/// separator, `/` in the date, fractional seconds, and a date or minutes
/// alone.
pub fn parse_wall_clock(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().replace('/', "-");
    let s = s.replacen('T', " ", 1);
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, format) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// The wall clock named by milliseconds since 1970 of local time (a PTS).
pub fn wall_clock_from_millis(ms: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc())
}

/// The instant (Unix seconds) a wall-clock time of `tz` names.
///
/// In the hour a DST change repeats, the candidate nearer `near` (the server
/// receive time, Unix seconds) wins: a live report was made just before it
/// arrived. In the hour a DST change skips, which no correct clock shows,
/// the time is read with the offset in force before the change.
pub fn to_unix(tz: Timezone, local: NaiveDateTime, near: i64) -> i64 {
    match tz.tz().from_local_datetime(&local) {
        LocalResult::Single(t) => t.timestamp(),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.timestamp(), b.timestamp());
            if a.abs_diff(near) <= b.abs_diff(near) { a } else { b }
        }
        LocalResult::None => {
            // The offset an hour earlier is the one before the jump.
            let before = local - chrono::TimeDelta::hours(3);
            let offset = match tz.tz().from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    chrono::Offset::fix(t.offset()).local_minus_utc()
                }
                LocalResult::None => 0,
            };
            local.and_utc().timestamp() - i64::from(offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn wall_clock_formats() {
        let t = NaiveDate::from_ymd_opt(2021, 7, 16)
            .unwrap()
            .and_hms_opt(8, 5, 9)
            .unwrap();
        for s in [
            "2021-07-16 08:05:09",
            " 2021-07-16T08:05:09 ",
            "2021/07/16 08:05:09",
            "2021-07-16 08:05:09.000",
        ] {
            assert_eq!(parse_wall_clock(s), Some(t), "{s}");
        }
        assert_eq!(
            parse_wall_clock("2021-07-16"),
            NaiveDate::from_ymd_opt(2021, 7, 16).unwrap().and_hms_opt(0, 0, 0)
        );
        for bad in [
            "",
            "yesterday",
            "2021-13-01 00:00:00",
            "2021-07-16 25:00:00",
            "1626393600",
        ] {
            assert_eq!(parse_wall_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn pts_is_wall_clock_not_utc() {
        // 2021-07-16 08:00:00 on the camera's clock, whatever its zone.
        let t = wall_clock_from_millis(1_626_422_400_000).unwrap();
        assert_eq!(t.to_string(), "2021-07-16 08:00:00");
        let shanghai = Timezone::parse("Asia/Shanghai").unwrap();
        assert_eq!(to_unix(shanghai, t, 0), ts("2021-07-16T00:00:00Z"));
    }

    #[test]
    fn zones_and_dst_edges() {
        let wall = |s: &str| parse_wall_clock(s).unwrap();
        let ny = Timezone::parse("America/New_York").unwrap();
        let kathmandu = Timezone::parse("Asia/Kathmandu").unwrap();
        let cases = [
            (kathmandu, "2026-03-08 00:00:00", 0, "2026-03-07T18:15:00Z"),
            (ny, "2026-07-01 12:00:00", 0, "2026-07-01T16:00:00Z"),
            // 01:30 happens twice on 2026-11-01: EDT first, then EST.
            (
                ny,
                "2026-11-01 01:30:00",
                ts("2026-11-01T05:31:00Z"),
                "2026-11-01T05:30:00Z",
            ),
            (
                ny,
                "2026-11-01 01:30:00",
                ts("2026-11-01T06:31:00Z"),
                "2026-11-01T06:30:00Z",
            ),
            // 02:30 never happens on 2026-03-08: read with EST (−5).
            (ny, "2026-03-08 02:30:00", 0, "2026-03-08T07:30:00Z"),
        ];
        for (tz, local, near, expected) in cases {
            assert_eq!(to_unix(tz, wall(local), near), ts(expected), "{tz} {local}");
        }
    }
}
