//! How uploads become counted footfall (PROTOCOLS.md, "Counting semantics").
//!
//! A device reports *readings*: counters for a span `[start, end]` of Unix
//! seconds. Readings of one device that share a `start` form a *series*.
//!
//! * In add mode every reading has its own `start`, so each series holds one
//!   reading and its increment is the reading itself.
//! * In total mode a series is a running total since `start`: sorted by
//!   `end`, each reading's increment is its value minus the previous one's,
//!   or — when any counter went down, i.e. the device restarted counting — the
//!   value itself. A repeat (same `end`) is the same reading.
//!
//! One rule serves both modes, so counting never depends on knowing which mode
//! a device was in when it sent something: an add-mode reading is a series of
//! one. Because increments are computed from the series sorted by `end`, a
//! late or shuffled total lands where it belongs; before a reset nothing is
//! lost, and a repeat adds nothing.
//!
//! *History* readings (the device's own record, sent on request) are
//! authoritative for their span: any other reading whose increment span they
//! wholly contain is superseded (no longer counted), and so is a finer history
//! reading inside a coarser one.
//!
//! Nothing is ever negative: increments are differences of non-decreasing
//! values or fresh values.

use std::ops::{Add, AddAssign, Sub};

/// Length of the finest stored bucket: 15 minutes, which every real timezone
/// offset is a multiple of.
pub const BUCKET_SECONDS: i64 = 15 * 60;

/// The four directions a people counter distinguishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    pub r#in: u64,
    pub out: u64,
    pub passby: u64,
    pub turnback: u64,
}

impl Counts {
    pub const ZERO: Counts = Counts {
        r#in: 0,
        out: 0,
        passby: 0,
        turnback: 0,
    };

    pub fn new(r#in: u64, out: u64, passby: u64, turnback: u64) -> Self {
        Counts {
            r#in,
            out,
            passby,
            turnback,
        }
    }

    pub fn as_array(&self) -> [u64; 4] {
        [self.r#in, self.out, self.passby, self.turnback]
    }

    pub fn people(&self) -> u64 {
        self.r#in
            .saturating_add(self.out)
            .saturating_add(self.passby)
            .saturating_add(self.turnback)
    }

    fn any_below(&self, other: &Counts) -> bool {
        self.as_array().iter().zip(other.as_array()).any(|(a, b)| *a < b)
    }

    /// `self - other` per counter, never below zero.
    pub fn saturating_sub(self, other: Counts) -> Counts {
        Counts {
            r#in: self.r#in.saturating_sub(other.r#in),
            out: self.out.saturating_sub(other.out),
            passby: self.passby.saturating_sub(other.passby),
            turnback: self.turnback.saturating_sub(other.turnback),
        }
    }
}

impl Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            r#in: self.r#in.saturating_add(o.r#in),
            out: self.out.saturating_add(o.out),
            passby: self.passby.saturating_add(o.passby),
            turnback: self.turnback.saturating_add(o.turnback),
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        *self = *self + o;
    }
}

/// All counters of a reading: the totals, and the adult and child splits
/// (zero when the device does not send splits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Tally {
    pub all: Counts,
    pub adult: Counts,
    pub child: Counts,
}

impl Tally {
    pub const ZERO: Tally = Tally {
        all: Counts::ZERO,
        adult: Counts::ZERO,
        child: Counts::ZERO,
    };

    pub fn of(all: Counts) -> Tally {
        Tally { all, ..Tally::ZERO }
    }

    /// True when any counter is lower than in `earlier`: the device restarted
    /// counting in between.
    pub fn is_reset_from(&self, earlier: &Tally) -> bool {
        self.all.any_below(&earlier.all) || self.adult.any_below(&earlier.adult) || self.child.any_below(&earlier.child)
    }

    pub fn is_zero(&self) -> bool {
        *self == Tally::ZERO
    }

    /// Whether adult/child splits carry information: devices that send no
    /// splits leave them at zero while counting people.
    pub fn has_splits(&self) -> bool {
        self.adult != Counts::ZERO || self.child != Counts::ZERO || self.all == Counts::ZERO
    }
}

impl Add for Tally {
    type Output = Tally;
    fn add(self, o: Tally) -> Tally {
        Tally {
            all: self.all + o.all,
            adult: self.adult + o.adult,
            child: self.child + o.child,
        }
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        *self = *self + o;
    }
}

impl Sub for Tally {
    type Output = Tally;
    /// Per-counter difference, never below zero.
    fn sub(self, o: Tally) -> Tally {
        Tally {
            all: self.all.saturating_sub(o.all),
            adult: self.adult.saturating_sub(o.adult),
            child: self.child.saturating_sub(o.child),
        }
    }
}

/// Whether a reading is a live report or the device's own history record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Real-time or interval upload, in add or total mode.
    Live,
    /// Answer to a history request; authoritative for its span.
    History,
}

impl Kind {
    pub const fn code(self) -> i16 {
        match self {
            Kind::Live => 0,
            Kind::History => 1,
        }
    }

    pub fn from_code(code: i16) -> Option<Kind> {
        match code {
            0 => Some(Kind::Live),
            1 => Some(Kind::History),
            _ => None,
        }
    }
}

/// A span of Unix seconds as devices report it, `[from, to)`: an interval
/// `[10:00, 10:05]` holds the seconds 10:00:00 to 10:04:59, and the next one
/// starts where it ends. A real-time report of one instant (`from == to`)
/// holds that one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub from: i64,
    pub to: i64,
}

impl Span {
    pub fn new(from: i64, to: i64) -> Self {
        Span { from, to }
    }

    /// The end of the seconds the span holds: `to`, or for an instant the
    /// second after it.
    pub fn end(&self) -> i64 {
        if self.to == self.from { self.to + 1 } else { self.to }
    }

    pub fn contains(&self, inner: &Span) -> bool {
        self.from <= inner.from && inner.end() <= self.end()
    }

    /// Whether the two spans hold a second in common (spans that only meet
    /// at an end do not).
    pub fn overlaps(&self, other: &Span) -> bool {
        self.from < other.end() && other.from < self.end()
    }

    /// The start of the 15-minute UTC bucket an increment over this span is
    /// counted in: the bucket of the span's last second. A span inside one
    /// bucket lands there; for a total-mode increment (previous report, this
    /// report] that is the bucket in which the report was made.
    pub fn bucket(&self) -> i64 {
        let instant = (self.to - 1).max(self.from);
        instant.div_euclid(BUCKET_SECONDS) * BUCKET_SECONDS
    }
}

/// A reading as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reading {
    pub kind: Kind,
    pub span: Span,
    pub tally: Tally,
}

/// What one reading adds to the counts, and over which span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Increment {
    pub tally: Tally,
    pub span: Span,
}

/// The increment of a live reading `cur`, given the reading just before it in
/// its series (same start, latest earlier end), if any.
pub fn increment(prev: Option<&Reading>, cur: &Reading) -> Increment {
    match prev {
        None => Increment {
            tally: cur.tally,
            span: cur.span,
        },
        Some(p) => Increment {
            tally: if cur.tally.is_reset_from(&p.tally) {
                cur.tally
            } else {
                cur.tally - p.tally
            },
            span: Span::new(p.span.to, cur.span.to),
        },
    }
}

/// A stored reading with its increment and what it counts once history has
/// had its say (see [`settle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Entry {
    pub reading: Reading,
    pub increment: Increment,
    pub counted: Tally,
}

impl Entry {
    /// A live entry with the increment the series rule gives it.
    pub fn live(prev: Option<&Reading>, reading: Reading) -> Entry {
        let increment = increment(prev, &reading);
        Entry {
            reading,
            increment,
            counted: increment.tally,
        }
    }

    /// A history entry: its increment is its own value over its own span.
    pub fn history(reading: Reading) -> Entry {
        Entry {
            reading,
            increment: Increment {
                tally: reading.tally,
                span: reading.span,
            },
            counted: reading.tally,
        }
    }

    /// The 15-minute bucket this entry's counts fall in.
    pub fn bucket(&self) -> i64 {
        self.increment.span.bucket()
    }

    pub fn span(&self) -> Span {
        self.increment.span
    }
}

/// Settles what each entry of a window counts. A window holds every history
/// and live entry of one device whose spans overlap, transitively; entries
/// outside it are unaffected.
///
/// 1. Live readings of different series can overlap when a device changes
///    data mode: its first total after switching to total mode covers the
///    whole statistics period, add-mode intervals already reported included.
///    A live increment counts only what the finer live increments inside it
///    (of other series) do not.
/// 2. A history record inside a strictly coarser one counts nothing.
/// 3. The counted history records, merged where they overlap or touch, form
///    *regions*. A live increment inside a region counts nothing: the
///    region's history counts those people.
/// 4. A live increment that straddles the edge of a history record shares
///    people with it. When the live increments cover the record without a
///    gap, the record's people not matched by the increments inside it are in
///    the straddling parts, so they are deducted from the straddlers (the
///    latest-ending first, never below zero). With a gap in the record (an
///    upload that never arrived) the split is unknowable and the straddler
///    counts in full.
///
/// Totals are exact for total mode (its increments leave no gaps), for add
/// mode whose spans line up with the history records, and whenever no upload
/// straddles a record edge.
pub fn settle(window: &mut [Entry]) {
    let is_live = |e: &Entry| e.reading.kind == Kind::Live;

    // 1. Live readings nested in coarser live readings of other series. Each
    //    live entry's own share is its increment minus the own shares of the
    //    entries nested in it (at any depth), smallest spans first.
    let lives: Vec<usize> = (0..window.len()).filter(|i| is_live(&window[*i])).collect();
    let live_spans: Vec<Span> = lives.iter().map(|i| window[*i].span()).collect();
    let inside = containment(&live_spans);
    let mut by_length: Vec<usize> = (0..lives.len()).collect();
    by_length.sort_by_key(|k| {
        let e = &window[lives[*k]];
        (e.span().end() - e.span().from, std::cmp::Reverse(e.reading.span.from))
    });
    let mut own: Vec<Tally> = lives.iter().map(|i| window[*i].increment.tally).collect();
    for &k in &by_length {
        let outer = &window[lives[k]];
        let nested = inside[k]
            .iter()
            .filter(|j| nested_in(&window[lives[**j]], outer))
            .fold(Tally::ZERO, |acc, j| acc + own[*j]);
        own[k] = outer.increment.tally - nested;
    }
    for (k, i) in lives.iter().enumerate() {
        window[*i].counted = own[k];
    }

    // 2. History records, the finer ones inside coarser ones counting nothing.
    let histories: Vec<usize> = (0..window.len()).filter(|i| !is_live(&window[*i])).collect();
    let history_spans: Vec<Span> = histories.iter().map(|i| window[*i].span()).collect();
    let mut finer = vec![false; histories.len()];
    for (k, within) in containment(&history_spans).iter().enumerate() {
        for j in within {
            if history_spans[*j] != history_spans[k] {
                finer[*j] = true;
            }
        }
    }
    let mut records = Vec::new();
    for (k, i) in histories.iter().enumerate() {
        let e = &mut window[*i];
        e.counted = if finer[k] { Tally::ZERO } else { e.increment.tally };
        if !finer[k] {
            records.push((e.span(), e.counted));
        }
    }
    records.sort_by_key(|(s, _)| (s.from, s.to));

    // 3. Live increments inside a region of history count nothing.
    let mut regions: Vec<Span> = Vec::new();
    for (span, _) in &records {
        match regions.last_mut() {
            Some(r) if span.from <= r.end() => r.to = r.end().max(span.end()),
            _ => regions.push(*span),
        }
    }
    // Lives by start, with their own shares before history zeroes some.
    let mut by_start: Vec<(Span, Tally, usize)> = lives
        .iter()
        .enumerate()
        .map(|(k, i)| (live_spans[k], own[k], *i))
        .collect();
    by_start.sort_by_key(|(s, _, _)| (s.from, s.end()));
    for &(span, _, i) in &by_start {
        let r = regions.partition_point(|r| r.end() <= span.from);
        if regions.get(r).is_some_and(|r| r.contains(&span)) {
            window[i].counted = Tally::ZERO;
        }
    }

    // 4. The rest of a gaplessly covered record is in its straddlers.
    let longest = by_start.iter().map(|(s, _, _)| s.end() - s.from).max().unwrap_or(0);
    for (record, people) in &records {
        let first = by_start.partition_point(|(s, _, _)| s.from < record.from - longest);
        let last = by_start.partition_point(|(s, _, _)| s.from < record.end());
        let near = &by_start[first..last];
        let overlapping: Vec<Span> = near.iter().map(|(s, _, _)| *s).filter(|s| s.overlaps(record)).collect();
        if !covers(&overlapping, record) {
            continue;
        }
        let inside = near
            .iter()
            .filter(|(s, _, _)| record.contains(s))
            .fold(Tally::ZERO, |acc, (_, t, _)| acc + *t);
        let mut remaining = *people - inside;
        let mut straddlers: Vec<usize> = near
            .iter()
            .filter(|(s, _, i)| s.overlaps(record) && !record.contains(s) && !window[*i].counted.is_zero())
            .map(|(_, _, i)| *i)
            .collect();
        straddlers.sort_by_key(|i| std::cmp::Reverse((window[*i].span().to, window[*i].span().from)));
        for i in straddlers {
            let taken = take(&mut remaining, window[i].counted);
            window[i].counted = window[i].counted - taken;
        }
    }
}

/// For each span, the indices of the other spans lying within it (at any
/// depth). Spans are swept in order of start, so only spans that start
/// inside one are looked at: linear for spans that do not nest.
fn containment(spans: &[Span]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|i| (spans[*i].from, std::cmp::Reverse(spans[*i].end())));
    let mut inside = vec![Vec::new(); spans.len()];
    for (pos, &i) in order.iter().enumerate() {
        let outer = spans[i];
        for &j in &order[pos + 1..] {
            let inner = spans[j];
            if inner.from >= outer.end() {
                break;
            }
            if inner.end() <= outer.end() {
                inside[i].push(j);
                if inner == outer {
                    // Equal spans lie within each other; callers decide.
                    inside[j].push(i);
                }
            }
        }
    }
    inside
}

/// Settles every entry of a device, however many: entries are split into
/// windows of transitively overlapping spans, and each window is settled on
/// its own (see [`settle`]). Used to re-derive everything from stored
/// readings.
pub fn settle_all(entries: &mut [Entry]) {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|i| (entries[*i].span().from, entries[*i].span().end()));
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        let mut reach = entries[order[start]].span().end();
        while end < order.len() && entries[order[end]].span().from < reach {
            reach = reach.max(entries[order[end]].span().end());
            end += 1;
        }
        let mut window: Vec<Entry> = order[start..end].iter().map(|i| entries[*i]).collect();
        settle(&mut window);
        for (i, e) in order[start..end].iter().zip(window) {
            entries[*i] = e;
        }
        start = end;
    }
}

/// Whether live entry `inner` is counted again inside live entry `outer` of
/// another series: its increment lies within `outer`'s. On equal spans the
/// reading that started earlier (the running total) is the outer one.
fn nested_in(inner: &Entry, outer: &Entry) -> bool {
    inner.reading.span.from != outer.reading.span.from
        && outer.span().contains(&inner.span())
        && (outer.span() != inner.span() || outer.reading.span.from < inner.reading.span.from)
}

/// Whether the spans together cover `target` without a gap.
fn covers(spans: &[Span], target: &Span) -> bool {
    let mut sorted: Vec<Span> = spans.to_vec();
    sorted.sort_by_key(|s| (s.from, s.to));
    let mut reached = target.from;
    for s in sorted {
        if s.from > reached {
            return false;
        }
        reached = reached.max(s.end());
        if reached >= target.end() {
            return true;
        }
    }
    reached >= target.end()
}

/// Takes from `remaining` as much as `available` allows, per counter, and
/// returns what was taken.
fn take(remaining: &mut Tally, available: Tally) -> Tally {
    let min = |a: Counts, b: Counts| Counts {
        r#in: a.r#in.min(b.r#in),
        out: a.out.min(b.out),
        passby: a.passby.min(b.passby),
        turnback: a.turnback.min(b.turnback),
    };
    let taken = Tally {
        all: min(remaining.all, available.all),
        adult: min(remaining.adult, available.adult),
        child: min(remaining.child, available.child),
    };
    *remaining = *remaining - taken;
    taken
}

/// Why a reading cannot be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    #[error("startTime {start} is after endTime {end}")]
    Backwards { start: i64, end: i64 },
    #[error("time {0} is outside the plausible range (2000-01-01 to one day ahead)")]
    Implausible(i64),
    #[error("a count of {0} is beyond any real door (at most 100000000 per reading)")]
    TooLarge(u64),
}

/// 2000-01-01T00:00:00Z.
pub const EARLIEST_PLAUSIBLE: i64 = 946_684_800;

/// The most a single counter of one reading may say: far beyond any real
/// door (a running total of a busy entrance over a year stays below it), low
/// enough that sums over years of readings cannot overflow.
pub const MAX_COUNT: u64 = 100_000_000;

/// The longest average stay a reading may report: a day, in milliseconds.
pub const MAX_STAY_MS: u64 = 24 * 3600 * 1000;

/// Checks a reading's counters against [`MAX_COUNT`].
pub fn check_tally(tally: &Tally) -> Result<(), ReadingError> {
    let all = [tally.all, tally.adult, tally.child];
    match all.iter().flat_map(|c| c.as_array()).find(|v| *v > MAX_COUNT) {
        Some(v) => Err(ReadingError::TooLarge(v)),
        None => Ok(()),
    }
}
/// How far ahead of the server clock a device clock may run.
pub const MAX_CLOCK_AHEAD_SECS: i64 = 24 * 3600;

/// Checks a device time against the server clock `now`.
pub fn check_time(t: i64, now: i64) -> Result<i64, ReadingError> {
    if (EARLIEST_PLAUSIBLE..=now.saturating_add(MAX_CLOCK_AHEAD_SECS)).contains(&t) {
        Ok(t)
    } else {
        Err(ReadingError::Implausible(t))
    }
}

/// Checks a reported span against the server clock `now`.
pub fn check_span(start: i64, end: i64, now: i64) -> Result<Span, ReadingError> {
    for t in [start, end] {
        check_time(t, now)?;
    }
    if start > end {
        return Err(ReadingError::Backwards { start, end });
    }
    Ok(Span::new(start, end))
}

/// Normalises a device time that may be seconds, milliseconds (PROTOCOLS.md:
/// values above 1e12 are ms) into seconds.
pub fn unix_seconds(value: i64) -> i64 {
    if value.unsigned_abs() >= 1_000_000_000_000 {
        value / 1000
    } else {
        value
    }
}

/// Normalises an event timestamp to microseconds. The documents say µs, real
/// devices send other magnitudes (the sample `161231947237000000` is 18
/// digits); epoch seconds of this era have 10 digits, so the digit count
/// tells the unit. `None` when the value cannot be a time of this era.
pub fn event_time_micros(value: i64) -> Option<i64> {
    if value <= 0 {
        return None;
    }
    let digits = value.ilog10() as i32 + 1;
    if digits < 10 {
        return None;
    }
    let shift = 16 - digits;
    if shift >= 0 {
        value.checked_mul(10_i64.pow(shift as u32))
    } else {
        Some(value / 10_i64.pow((-shift) as u32))
    }
}

/// A per-person event from a real-time upload's `eventList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
    Passby,
    Turnback,
}

impl Direction {
    pub const fn code(self) -> i16 {
        match self {
            Direction::In => 0,
            Direction::Out => 1,
            Direction::Passby => 2,
            Direction::Turnback => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Passby => "passby",
            Direction::Turnback => "turnback",
        }
    }

    pub fn from_code(code: i16) -> Option<Direction> {
        match code {
            0 => Some(Direction::In),
            1 => Some(Direction::Out),
            2 => Some(Direction::Passby),
            3 => Some(Direction::Turnback),
            _ => None,
        }
    }
}

/// Decodes an `eventType`: 0–3 are in, out, pass-by, turn-back; 100 + x is the
/// same for a child. Returns the direction and whether it was a child.
pub fn event_type(code: i64) -> Option<(Direction, bool)> {
    let (base, child) = if code >= 100 { (code - 100, true) } else { (code, false) };
    let base = i16::try_from(base).ok()?;
    Direction::from_code(base).map(|d| (d, child))
}

#[cfg(test)]
mod ledger;

#[cfg(test)]
mod tests {
    use super::*;

    fn live(start: i64, end: i64, n: u64) -> Reading {
        Reading {
            kind: Kind::Live,
            span: Span::new(start, end),
            tally: Tally::of(Counts::new(n, 0, 0, 0)),
        }
    }

    #[test]
    fn increments_of_a_series() {
        // (previous reading, this reading, expected increment of `in`, expected span)
        let cases = [
            (None, live(0, 300, 7), 7, (0, 300)),
            (Some(live(0, 300, 7)), live(0, 600, 10), 3, (300, 600)),
            (Some(live(0, 600, 10)), live(0, 900, 10), 0, (600, 900)),
            // The device restarted counting: the new total is all new.
            (Some(live(0, 900, 10)), live(0, 1200, 4), 4, (900, 1200)),
        ];
        for (prev, cur, expected, span) in cases {
            let inc = increment(prev.as_ref(), &cur);
            assert_eq!(inc.tally.all.r#in, expected, "{prev:?} -> {cur:?}");
            assert_eq!((inc.span.from, inc.span.to), span);
        }
    }

    #[test]
    fn a_reset_in_any_counter_resets_all() {
        let before = Reading {
            kind: Kind::Live,
            span: Span::new(0, 60),
            tally: Tally::of(Counts::new(10, 8, 0, 0)),
        };
        // `out` rose, but `in` fell: the device restarted, so `out` is new too.
        let after = Reading {
            kind: Kind::Live,
            span: Span::new(0, 120),
            tally: Tally::of(Counts::new(2, 9, 0, 0)),
        };
        assert_eq!(increment(Some(&before), &after).tally.all, Counts::new(2, 9, 0, 0));
    }

    #[test]
    fn spans_hold_their_seconds() {
        let record = Span::new(600, 900);
        assert!(
            record.contains(&Span::new(600, 600)),
            "an instant at the start is inside"
        );
        assert!(
            !record.contains(&Span::new(900, 900)),
            "an instant at the end belongs to the next"
        );
        assert!(record.overlaps(&Span::new(899, 899)));
        assert!(
            !record.overlaps(&Span::new(900, 1200)),
            "meeting at an end is not overlapping"
        );
        assert!(!record.overlaps(&Span::new(300, 600)));
        assert!(record.overlaps(&Span::new(300, 601)));
        assert!(covers(&[Span::new(500, 700), Span::new(700, 901)], &record));
        assert!(!covers(&[Span::new(500, 700), Span::new(701, 901)], &record));
    }

    #[test]
    fn buckets_take_the_last_second_of_a_span() {
        let cases = [
            ((0, 900), 0),
            ((600, 900), 0),
            ((600, 901), 900),
            ((900, 900), 900),
            ((1000, 1000), 900),
            ((0, 3600), 2700),
            ((-100, -1), -900),
        ];
        for ((from, to), bucket) in cases {
            assert_eq!(Span::new(from, to).bucket(), bucket, "{from}..{to}");
        }
    }

    #[test]
    fn settling_history_against_live_increments() {
        let t = |n| Tally::of(Counts::new(n, 0, 0, 0));
        let live = |from, to, n| Entry {
            reading: Reading {
                kind: Kind::Live,
                span: Span::new(from, to),
                tally: t(n),
            },
            increment: Increment {
                tally: t(n),
                span: Span::new(from, to),
            },
            counted: t(n),
        };
        let history = |from, to, n| {
            Entry::history(Reading {
                kind: Kind::History,
                span: Span::new(from, to),
                tally: t(n),
            })
        };
        // (window, expected counted per entry)
        let cases = vec![
            // Live inside history: superseded.
            (vec![live(0, 300, 3), history(0, 600, 9)], vec![0, 9]),
            // Partial overlap on the right: the history's rest (9 - 3 inside)
            // is deducted from the straddler.
            (
                vec![live(0, 300, 3), live(300, 900, 10), history(0, 600, 9)],
                vec![0, 4, 9],
            ),
            // A live increment containing the whole history.
            (vec![live(0, 900, 12), history(300, 600, 5)], vec![7, 5]),
            // Adjacent histories form one region.
            (
                vec![live(250, 350, 2), history(0, 300, 4), history(300, 600, 6)],
                vec![0, 4, 6],
            ),
            // A straddler next to a gap: the split is unknowable, it counts in full.
            (vec![live(200, 400, 3), history(300, 900, 5)], vec![3, 5]),
            // A finer history inside a coarser one counts nothing.
            (vec![history(0, 300, 4), history(0, 600, 9)], vec![0, 9]),
            // Never below zero.
            (vec![live(0, 900, 1), history(300, 600, 5)], vec![0, 5]),
            // No history: everything counts.
            (vec![live(0, 300, 3), live(300, 600, 4)], vec![3, 4]),
            // A first total after switching to total mode covers the add-mode
            // intervals already counted: here 9 since 0, following the
            // add-mode [0, 300] of its series, with [300, 600] of another
            // series nested in its increment.
            (
                vec![
                    live(0, 300, 3),
                    live(300, 600, 4),
                    Entry {
                        reading: Reading {
                            kind: Kind::Live,
                            span: Span::new(0, 900),
                            tally: t(9),
                        },
                        increment: Increment {
                            tally: t(6),
                            span: Span::new(300, 900),
                        },
                        counted: t(6),
                    },
                ],
                vec![3, 4, 2],
            ),
        ];
        for (mut window, expected) in cases {
            settle(&mut window);
            let got: Vec<u64> = window.iter().map(|e| e.counted.all.r#in).collect();
            assert_eq!(got, expected, "{window:?}");
        }
    }

    #[test]
    fn span_checks() {
        let now = 1_800_000_000;
        assert!(check_span(now - 60, now, now).is_ok());
        assert!(check_span(now, now - 60, now).is_err());
        assert!(check_span(0, 60, now).is_err(), "1970: an unsynced clock");
        assert!(check_span(now, now + 2 * 86_400, now).is_err());
        assert!(check_span(now, now + 3600, now).is_ok(), "a little ahead is tolerated");
    }

    #[test]
    fn implausible_counts() {
        assert!(check_tally(&Tally::of(Counts::new(MAX_COUNT, 0, 0, 0))).is_ok());
        assert!(check_tally(&Tally::of(Counts::new(0, MAX_COUNT + 1, 0, 0))).is_err());
        let mut child = Tally::ZERO;
        child.child.turnback = u64::MAX;
        assert!(check_tally(&child).is_err());
        assert_eq!(Counts::new(u64::MAX, 1, 1, 1).people(), u64::MAX, "saturates");
        assert_eq!(unix_seconds(i64::MIN), i64::MIN / 1000, "no overflow");
    }

    #[test]
    fn time_units() {
        assert_eq!(unix_seconds(1_641_434_640), 1_641_434_640);
        assert_eq!(unix_seconds(1_641_434_640_123), 1_641_434_640);
        let cases = [
            (161_231_947_237_000_000, Some(1_612_319_472_370_000)),
            (1_612_319_472_370_000, Some(1_612_319_472_370_000)),
            (1_612_319_472_370, Some(1_612_319_472_370_000)),
            (1_612_319_472, Some(1_612_319_472_000_000)),
            (1_612_319_472_370_000_000, Some(1_612_319_472_370_000)),
            (12345, None),
            (0, None),
            (-5, None),
        ];
        for (raw, expected) in cases {
            assert_eq!(event_time_micros(raw), expected, "{raw}");
        }
    }

    #[test]
    fn event_types() {
        assert_eq!(event_type(0), Some((Direction::In, false)));
        assert_eq!(event_type(3), Some((Direction::Turnback, false)));
        assert_eq!(event_type(101), Some((Direction::Out, true)));
        assert_eq!(event_type(4), None);
        assert_eq!(event_type(-1), None);
        assert_eq!(event_type(250), None);
    }
}
