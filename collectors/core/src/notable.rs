//! What is notable: the one rule for which events can become rows of the
//! summary. Collectors use it to leave routine events unbuilt when only
//! notable ones are wanted (`Detail::Notable`), and the summariser to count
//! the rest as routine; decided here once, the two cannot disagree.

use crate::{Event, EventKind, Severity};

/// Whether an event of this kind and severity can become a row.
pub fn of(kind: EventKind, severity: Option<Severity>) -> bool {
    match kind {
        // A log line is worth a row when it warns or worse.
        EventKind::Log => severity.is_some_and(|s| s >= Severity::Warning),
        // A session that connected or a query that started is routine on a
        // busy server; waits, long and idle transactions and saturation are not.
        EventKind::Database => severity.is_none_or(|s| s >= Severity::Notice),
        // Changes, state changes, lifecycle, alerts and annotations always count.
        _ => true,
    }
}

/// Whether an event can become a row.
pub fn event(e: &Event) -> bool {
    of(e.kind, e.severity)
}

/// A line as a collector reads it, before building its event: a state
/// change, or a log line of its severity.
pub fn line(severity: Option<Severity>, state_change: bool) -> bool {
    of(if state_change { EventKind::StateChange } else { EventKind::Log }, severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_lines_and_events() {
        assert!(!line(Some(Severity::Info), false));
        assert!(!line(None, false));
        assert!(line(Some(Severity::Warning), false));
        assert!(line(Some(Severity::Info), true), "a state change counts whatever its level");
        assert!(of(EventKind::Database, None));
        assert!(of(EventKind::Database, Some(Severity::Notice)));
        assert!(!of(EventKind::Database, Some(Severity::Info)));
        assert!(of(EventKind::Change, Some(Severity::Info)));
    }
}
