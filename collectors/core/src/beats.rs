//! Routine lines read before the window for their pace alone, gathered by
//! component into one event each ([`Fact::Beats`]) instead of one event a
//! line: the findings want each line's time, not a whole event per line
//! through the channel, the reorder buffer and the merge.

use std::sync::Arc;

use crate::event::{Beat, Event, EventKind, Evidence, Fact, Locator, SourceKind, TimeBasis, Timestamp};
use crate::{EventSink, Stopped};

/// Beats held before they are handed on, over all components.
const MAX_HELD: usize = 4096;

/// The beats read since the last event handed on, by component.
#[derive(Default)]
pub struct Paces {
    /// Each component's beats, and whether they came in time order.
    open: Vec<(Arc<str>, Vec<Beat>, bool)>,
    held: usize,
    /// The longest run handed on last: a new run's room, so it seldom grows.
    room: usize,
}

impl Paces {
    /// Holds one line's beat; true when enough are held to hand them on.
    pub fn push(&mut self, component: &Arc<str>, time: Timestamp, line: u64) -> bool {
        let beat = Beat { time, line };
        match self.open.iter_mut().find(|(c, _, _)| Arc::ptr_eq(c, component) || c == component) {
            Some((_, beats, ordered)) => {
                *ordered &= beats.last().is_none_or(|l| *l <= beat);
                beats.push(beat);
            }
            None => {
                let mut beats = Vec::with_capacity(self.room.clamp(16, MAX_HELD));
                beats.push(beat);
                self.open.push((component.clone(), beats, true));
            }
        }
        self.held = self.held.saturating_add(1);
        self.held >= MAX_HELD
    }

    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Hands on what is held, one event a component at its earliest beat,
    /// before any event read after them: the stream stays in time order.
    pub fn drain(&mut self, path: &Arc<str>, collector: SourceKind, sink: &mut dyn EventSink) -> Result<(), Stopped> {
        if self.held == 0 {
            return Ok(());
        }
        self.held = 0;
        self.room = self.open.iter().map(|(_, b, _)| b.len()).max().unwrap_or(0);
        let mut runs: Vec<(Beat, Arc<str>, Vec<Beat>)> = self
            .open
            .drain(..)
            .filter_map(|(c, mut beats, ordered)| {
                // In time order, as the merge would have put them.
                if !ordered {
                    beats.sort_unstable();
                }
                beats.first().copied().map(|first| (first, c, beats))
            })
            .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (first, component, beats) in runs {
            sink.emit(Event {
                time: first.time,
                basis: TimeBasis::Explicit,
                collector,
                component,
                kind: EventKind::Log,
                severity: None,
                summary: String::new(),
                evidence: Evidence {
                    locator: Locator::Line { path: path.clone(), line: first.line },
                    excerpt: String::new(),
                },
                continuation_lines: 0,
                service: None,
                fact: Some(Box::new(Fact::Beats { beats })),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VecSink;

    #[test]
    fn beats_go_on_by_component_in_time_order() {
        let t = |s: i64| Timestamp::from_unix_seconds(s, 0).unwrap_or(Timestamp::MIN);
        let (api, db): (Arc<str>, Arc<str>) = ("api".into(), "db".into());
        let mut p = Paces::default();
        assert!(!p.push(&db, t(12), 1));
        assert!(!p.push(&api, t(11), 2));
        assert!(!p.push(&db, t(10), 3));
        let mut sink = VecSink::default();
        assert!(p.drain(&"a.log".into(), SourceKind::Logfile, &mut sink).is_ok());
        let got: Vec<(i64, &str, String)> = sink
            .events
            .iter()
            .map(|e| (e.time.unix_seconds(), &*e.component, e.evidence.locator.to_string()))
            .collect();
        assert_eq!(got, [(10, "db", "a.log:3".to_string()), (11, "api", "a.log:2".to_string())]);
        let Some(Fact::Beats { beats }) = sink.events.first().and_then(|e| e.fact.as_deref()) else { panic!("beats") };
        assert_eq!(beats.iter().map(|b| b.line).collect::<Vec<_>>(), [3, 1], "in time order");
        assert!(p.is_empty());
    }
}
