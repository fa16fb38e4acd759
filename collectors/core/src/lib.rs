//! The collector contract of reconstruct: what an event is, what evidence it
//! carries, the time window, how collectors hand events over, and the
//! timestamp parsing that every text-reading collector shares.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod beats;
pub mod classify;
pub mod collector;
pub mod cues;
pub mod event;
pub mod lines;
pub mod notable;
pub mod reorder;
pub mod severity;
pub mod slice;
pub mod text;
pub mod timestamp;
pub mod window;
pub mod zone;

pub use collector::{
    collect_now, runtime, CollectContext, CollectError, Collector, Detail, Diagnostic, EventSink, LocalFuture,
    NetworkCollector, Reach, Source, SourceId, Step, Stopped, VecSink, Want, HELD_BUDGET,
};
pub use event::{
    AlertState, Beat, ContainerAction, Event, EventKind, Evidence, Fact, Locator, Severity, SourceKind, TimeBasis,
    Timestamp,
};
pub use window::TimeWindow;
pub use zone::Zone;
