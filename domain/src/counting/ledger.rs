//! An in-memory reference ledger of one device's readings: it keeps the
//! readings (a repeat of a live reading is the same reading; a history
//! reading sent again replaces the earlier one) and derives everything else
//! from scratch with the series rule and [`settle`]. The database repository
//! derives the same incrementally; the property tests below check the rules
//! against the ground truth with shuffled, repeated uploads.

use std::collections::BTreeMap;

use super::*;

#[derive(Default)]
pub struct Ledger {
    readings: BTreeMap<(Kind, i64, i64), Reading>,
}

impl Ledger {
    pub fn insert(&mut self, r: Reading) {
        let key = (r.kind, r.span.from, r.span.to);
        match r.kind {
            Kind::Live => {
                self.readings.entry(key).or_insert(r);
            }
            Kind::History => {
                self.readings.insert(key, r);
            }
        }
    }

    pub fn entries(&self) -> Vec<Entry> {
        let mut entries = Vec::new();
        let mut prev: Option<&Reading> = None;
        // Keys sort by kind, then start, then end: each live series is a run.
        for r in self.readings.values() {
            match r.kind {
                Kind::Live => {
                    let same_series = prev.filter(|p| p.span.from == r.span.from);
                    entries.push(Entry::live(same_series, *r));
                    prev = Some(r);
                }
                Kind::History => entries.push(Entry::history(*r)),
            }
        }
        settle_all(&mut entries);
        entries
    }

    pub fn total(&self) -> Tally {
        let windowed = self.entries().iter().fold(Tally::ZERO, |acc, e| acc + e.counted);
        // Settling everything as one window must agree with settling the
        // overlapping windows apart.
        let mut whole: Vec<Entry> = self.entries();
        settle(&mut whole);
        assert_eq!(whole.iter().fold(Tally::ZERO, |acc, e| acc + e.counted), windowed);
        windowed
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const T0: i64 = 1_780_000_200; // a multiple of 300

    fn counts(n: u64) -> Tally {
        Tally {
            all: Counts::new(n, n / 2, n % 3, n % 2),
            adult: Counts::new(n - n / 4, n / 2 - n / 8, 0, 0),
            child: Counts::new(n / 4, n / 8, 0, 0),
        }
    }

    fn reading(kind: Kind, from: i64, to: i64, tally: Tally) -> Reading {
        Reading {
            kind,
            span: Span::new(from, to),
            tally,
        }
    }

    /// Reorders `uploads` by `order` (random keys) and repeats some of them.
    fn deliver(mut uploads: Vec<Reading>, order: &[u32], repeats: &[usize]) -> Vec<Reading> {
        for i in repeats {
            if !uploads.is_empty() {
                let r = uploads[i % uploads.len()];
                uploads.push(r);
            }
        }
        let mut keyed: Vec<(u32, Reading)> = uploads
            .into_iter()
            .enumerate()
            .map(|(i, r)| (order.get(i).copied().unwrap_or(i as u32), r))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        keyed.into_iter().map(|(_, r)| r).collect()
    }

    fn ledger_total(uploads: Vec<Reading>) -> Tally {
        let mut ledger = Ledger::default();
        for r in uploads {
            ledger.insert(r);
        }
        ledger.total()
    }

    fn sum(people: &[u64]) -> Tally {
        people.iter().fold(Tally::ZERO, |acc, n| acc + counts(*n))
    }

    proptest! {
        /// Add mode: each interval's count once, whatever the order and however
        /// often it is retransmitted.
        #[test]
        fn add_mode(people in prop::collection::vec(0u64..40, 1..40),
                    order in prop::collection::vec(any::<u32>(), 0..120),
                    repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let uploads: Vec<Reading> = people.iter().enumerate()
                .map(|(i, n)| reading(Kind::Live, T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1), counts(*n)))
                .collect();
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), sum(&people));
        }

        /// Total mode: running totals with counter resets, shuffled and repeated.
        #[test]
        fn total_mode_with_resets(people in prop::collection::vec(0u64..40, 1..40),
                                  resets in prop::collection::vec(any::<bool>(), 40),
                                  order in prop::collection::vec(any::<u32>(), 0..120),
                                  repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let mut running = Tally::ZERO;
            let mut uploads = Vec::new();
            for (i, n) in people.iter().enumerate() {
                // A reset empties the device's counter before this interval.
                // Only a reset that makes a counter go down is observable, so
                // resets are applied where the previous total was non-zero and
                // the new interval counts fewer people than it.
                if resets[i] && !running.is_zero() && counts(*n).all.r#in < running.all.r#in {
                    running = Tally::ZERO;
                }
                running += counts(*n);
                uploads.push(reading(Kind::Live, T0, T0 + 300 * (i as i64 + 1), running));
            }
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), sum(&people));
        }

        /// An outage: some live uploads are lost, the history covering the
        /// outage arrives (at any point, possibly twice), nobody is counted twice.
        #[test]
        fn add_mode_outage_answered_by_history(people in prop::collection::vec(0u64..40, 4..40),
                                               outage in (0usize..40, 1usize..20),
                                               delivered in prop::collection::vec(any::<bool>(), 40),
                                               order in prop::collection::vec(any::<u32>(), 0..120),
                                               repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let n = people.len();
            let (first, len) = (outage.0 % n, outage.1);
            let last = (first + len).min(n);
            let mut uploads = Vec::new();
            for (i, p) in people.iter().enumerate() {
                let in_outage = (first..last).contains(&i);
                if !in_outage || delivered[i] {
                    uploads.push(reading(Kind::Live, T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1), counts(*p)));
                }
            }
            // The device's history: one record per interval of the outage.
            for (i, p) in people.iter().enumerate().take(last).skip(first) {
                uploads.push(reading(Kind::History, T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1), counts(*p)));
            }
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), sum(&people));
        }

        /// Total mode across an outage: the first total after it spans the
        /// outage; the history of the outage arrives too, in any order, with or
        /// without the device retransmitting the totals it missed.
        #[test]
        fn total_mode_outage_answered_by_history(people in prop::collection::vec(0u64..40, 4..40),
                                                 outage in (1usize..40, 1usize..20),
                                                 retransmitted in prop::collection::vec(any::<bool>(), 40),
                                                 coarse in any::<bool>(),
                                                 order in prop::collection::vec(any::<u32>(), 0..120),
                                                 repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let n = people.len();
            let first = 1 + outage.0 % (n - 1);
            let last = (first + outage.1).min(n - 1);
            let mut running = Tally::ZERO;
            let mut uploads = Vec::new();
            for (i, p) in people.iter().enumerate() {
                running += counts(*p);
                let in_outage = (first..last).contains(&i);
                if !in_outage || retransmitted[i] {
                    uploads.push(reading(Kind::Live, T0, T0 + 300 * (i as i64 + 1), running));
                }
            }
            if coarse {
                let outage_people: Vec<u64> = people[first..last].to_vec();
                uploads.push(reading(Kind::History, T0 + 300 * first as i64, T0 + 300 * last as i64, sum(&outage_people)));
            } else {
                for (i, p) in people.iter().enumerate().take(last).skip(first) {
                    uploads.push(reading(Kind::History, T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1), counts(*p)));
                }
            }
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), sum(&people));
        }
    }

    proptest! {
        /// Real-time add mode: uploads cut time at arbitrary seconds within the
        /// device's 5-minute recording slots, some are lost in an outage, and
        /// the history records of the missing time arrive; every person is
        /// counted once.
        #[test]
        fn real_time_outage_answered_by_history(people in prop::collection::vec((1i64..=6000, 0u8..4, any::<bool>()), 0..80),
                                                cuts in prop::collection::btree_set(1i64..6000, 1..60),
                                                outage in (0i64..20, 1i64..10),
                                                order in prop::collection::vec(any::<u32>(), 0..120),
                                                repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let one = |dir: u8, child: bool| {
                let mut c = Counts::ZERO;
                match dir { 0 => c.r#in = 1, 1 => c.out = 1, 2 => c.passby = 1, _ => c.turnback = 1 }
                if child { Tally { all: c, adult: Counts::ZERO, child: c } } else { Tally { all: c, adult: c, child: Counts::ZERO } }
            };
            let tally_in = |from: i64, to: i64| people.iter()
                .filter(|(t, _, _)| from < *t && *t <= to)
                .fold(Tally::ZERO, |acc, (_, d, c)| acc + one(*d, *c));
            let (down_from, down_to) = (300 * outage.0, 300 * (outage.0 + outage.1));
            let mut bounds: Vec<i64> = (0..=6000).step_by(300).collect();
            bounds.extend(cuts.iter().copied());
            bounds.sort_unstable();
            bounds.dedup();
            let mut uploads = Vec::new();
            let mut missing: Option<(i64, i64)> = None;
            for w in bounds.windows(2) {
                // An upload is sent at the end of its span; while the network
                // is down it is lost.
                if down_from < w[1] && w[1] <= down_to {
                    missing = Some(missing.map_or((w[0], w[1]), |(a, _)| (a, w[1])));
                } else {
                    uploads.push(reading(Kind::Live, T0 + w[0], T0 + w[1], tally_in(w[0], w[1])));
                }
            }
            // The tenant asks for the history of the missing time, which the
            // device answers in 5-minute records.
            if let Some((from, to)) = missing {
                let first = from.div_euclid(300) * 300;
                for slot in (first..to).step_by(300) {
                    uploads.push(reading(Kind::History, T0 + slot, T0 + slot + 300, tally_in(slot, slot + 300)));
                }
            }
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), tally_in(-1, 6000));
        }
    }

    proptest! {
        /// A device switched between add and total mode mid-day: the first
        /// total after a switch covers the day so far, add-mode intervals
        /// included; in any order, everybody is counted once.
        #[test]
        fn switching_data_modes(people in prop::collection::vec(0u64..30, 2..40),
                                switches in prop::collection::vec(any::<bool>(), 40),
                                order in prop::collection::vec(any::<u32>(), 0..120),
                                repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let mut uploads = Vec::new();
            let mut total_mode = false;
            for (i, n) in people.iter().enumerate() {
                if switches[i] && i > 0 {
                    total_mode = !total_mode;
                }
                let (from, to) = (T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1));
                if total_mode {
                    // Running total since the start of the day (T0).
                    uploads.push(reading(Kind::Live, T0, to, sum(&people[..=i])));
                } else {
                    uploads.push(reading(Kind::Live, from, to, counts(*n)));
                }
            }
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), sum(&people));
        }
    }

    proptest! {
        /// Everything at once: mode switches, an outage whose live uploads
        /// are partly lost, the history of the outage, shuffles and repeats.
        #[test]
        fn switching_modes_across_an_outage(people in prop::collection::vec(0u64..30, 4..40),
                                            switches in prop::collection::vec(any::<bool>(), 40),
                                            outage in (0usize..40, 1usize..12),
                                            delivered in prop::collection::vec(any::<bool>(), 40),
                                            order in prop::collection::vec(any::<u32>(), 0..120),
                                            repeats in prop::collection::vec(any::<usize>(), 0..40)) {
            let n = people.len();
            let (first, last) = (outage.0 % n, ((outage.0 % n) + outage.1).min(n));
            let mut uploads = Vec::new();
            let mut total_mode = false;
            for (i, p) in people.iter().enumerate() {
                if switches[i] && i > 0 {
                    total_mode = !total_mode;
                }
                let lost = (first..last).contains(&i) && !delivered[i];
                let (from, to) = (T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1));
                if lost {
                    continue;
                }
                if total_mode {
                    uploads.push(reading(Kind::Live, T0, to, sum(&people[..=i])));
                } else {
                    uploads.push(reading(Kind::Live, from, to, counts(*p)));
                }
            }
            for (i, p) in people.iter().enumerate().take(last).skip(first) {
                uploads.push(reading(Kind::History, T0 + 300 * i as i64, T0 + 300 * (i as i64 + 1), counts(*p)));
            }
            prop_assert_eq!(ledger_total(deliver(uploads, &order, &repeats)), sum(&people));
        }
    }

    #[test]
    fn a_late_total_adds_nothing_and_a_repeat_neither() {
        let t = |n| Tally::of(Counts::new(n, 0, 0, 0));
        let mut ledger = Ledger::default();
        ledger.insert(reading(Kind::Live, T0, T0 + 600, t(15)));
        ledger.insert(reading(Kind::Live, T0, T0 + 300, t(10)));
        ledger.insert(reading(Kind::Live, T0, T0 + 600, t(15)));
        assert_eq!(ledger.total(), t(15));
        // Counts made before a reset are kept.
        ledger.insert(reading(Kind::Live, T0, T0 + 900, t(4)));
        assert_eq!(ledger.total(), t(19));
    }

    #[test]
    fn history_replaces_the_live_samples_it_contains() {
        let t = |n| Tally::of(Counts::new(n, 0, 0, 0));
        let mut ledger = Ledger::default();
        ledger.insert(reading(Kind::Live, T0, T0 + 300, t(3)));
        ledger.insert(reading(Kind::Live, T0 + 300, T0 + 600, t(4)));
        ledger.insert(reading(Kind::History, T0, T0 + 600, t(9)));
        assert_eq!(ledger.total(), t(9), "the history is the device's record");
        ledger.insert(reading(Kind::Live, T0 + 600, T0 + 900, t(1)));
        assert_eq!(ledger.total(), t(10));
        // A retransmitted history with corrected values replaces the earlier one.
        ledger.insert(reading(Kind::History, T0, T0 + 600, t(8)));
        assert_eq!(ledger.total(), t(9));
    }
}
