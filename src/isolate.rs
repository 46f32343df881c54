//! One call's panic is one failed call: the stages of a call's journey run
//! isolated, and a panic in any of them (a decoder's `unreachable!()` on a
//! crafted header, a bug of ours on an input nobody foresaw) comes back as a
//! [`Panicked`] naming the stage and what it said, never as a crash of the night.
//!
//! Each stage's work runs inside [`in_stage`]; the innermost stage that sees a
//! panic names it, and the outer ones pass it on unchanged, across rayon's
//! threads too (rayon carries a task's panic to the thread that waits for it).
//! The call's boundary ([`isolated`]) turns it into an error. What a panic
//! leaves in doubt is dropped while unwinding: a whisper decoding state is
//! owned by the chunk that borrowed it from the pool and is freed, not put
//! back, so the next chunk starts from a fresh one.
//!
//! A panic inside an isolated stage is not printed by Rust's default hook (it
//! becomes the call's failed row and log line instead); any other panic is.
//!
//! For tests, `CALLQA_FAILPOINT=<stage>:<call id>` makes that stage panic for
//! that call (stages as [`Stage::as_str`] names them): how the suite proves
//! every stage is isolated without a crafted input for each.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

/// A stage of one call's journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the file and identifying its format.
    Probe,
    /// Decoding its samples.
    Decode,
    /// To 16 kHz, per speaker.
    Resample,
    /// Finding speech (and the audio that is not a person's).
    Vad,
    /// Whisper's decoding.
    Transcribe,
    /// Phrases checked against the audio.
    Verify,
    /// Matching phrases and judging the rules.
    Judge,
}

impl Stage {
    /// The stage's name in failed rows, logs and `CALLQA_FAILPOINT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Probe => "probe",
            Stage::Decode => "decode",
            Stage::Resample => "resample",
            Stage::Vad => "vad",
            Stage::Transcribe => "transcribe",
            Stage::Verify => "verify",
            Stage::Judge => "judge",
        }
    }
}

/// A stage panicked: where, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("panic in {} ({}){}", .stage.as_str(), .message, .at.as_deref().map(|at| format!(" at {at}")).unwrap_or_default())]
pub struct Panicked {
    /// The innermost stage that was running.
    pub stage: Stage,
    /// The panic's message.
    pub message: String,
    /// The source location, when the panic happened on the stage's own thread.
    pub at: Option<String>,
}

thread_local! {
    /// How many isolated stages this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where this thread last panicked inside one (set by the hook).
    static LAST_AT: Cell<Option<String>> = const { Cell::new(None) };
    /// The call this thread works for, for failpoints.
    static CALL: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Installs the panic hook: panics inside isolated stages are recorded, not
/// printed; every other panic is printed as Rust prints it. Call once, early.
pub fn install_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if DEPTH.with(Cell::get) > 0 {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
            LAST_AT.with(|last| last.set(at));
        } else {
            default(info);
        }
    }));
}

/// Runs one stage of a call. A panic inside comes out as a [`Panicked`]
/// payload naming this stage (or the inner stage that already named it).
pub fn in_stage<T>(stage: Stage, work: impl FnOnce() -> T) -> T {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(|| {
        failpoint(stage);
        work()
    }));
    DEPTH.with(|d| d.set(d.get() - 1));
    match result {
        Ok(value) => value,
        Err(payload) => {
            let named = match payload.downcast::<Panicked>() {
                Ok(inner) => inner,
                Err(payload) => Box::new(Panicked {
                    stage,
                    message: message_of(payload.as_ref()),
                    at: LAST_AT.with(Cell::take),
                }),
            };
            resume_unwind(named)
        }
    }
}

/// Runs one call's work on behalf of `call_id`: a panic in any of its stages
/// is the call's error. `outer` names the stage when the panic came from
/// code no stage wrapped.
pub fn isolated<T>(call_id: &str, outer: Stage, work: impl FnOnce() -> T) -> Result<T, Panicked> {
    let leaked: Option<&'static str> = failpoints()
        .is_some()
        .then(|| &*Box::leak(call_id.to_string().into_boxed_str()));
    let before = CALL.with(|c| c.replace(leaked));
    let result = catch_unwind(AssertUnwindSafe(|| in_stage(outer, work)));
    CALL.with(|c| c.set(before));
    result.map_err(|payload| match payload.downcast::<Panicked>() {
        Ok(named) => *named,
        Err(payload) => Panicked {
            stage: outer,
            message: message_of(payload.as_ref()),
            at: None,
        },
    })
}

/// The call a thread works for, carried to the threads that help it (rayon's
/// workers decoding its chunks), so a failpoint knows its call there too.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallTag(Option<&'static str>);

impl CallTag {
    /// The call this thread works for.
    pub fn current() -> Self {
        Self(CALL.with(Cell::get))
    }

    /// Runs `work` on this thread on behalf of the tagged call.
    pub fn enter<T>(self, work: impl FnOnce() -> T) -> T {
        let before = CALL.with(|c| c.replace(self.0));
        let result = catch_unwind(AssertUnwindSafe(work));
        CALL.with(|c| c.set(before));
        result.unwrap_or_else(|payload| resume_unwind(payload))
    }
}

fn message_of(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// `CALLQA_FAILPOINT`, read once: (stage, call id).
fn failpoints() -> Option<&'static (String, String)> {
    static POINTS: OnceLock<Option<(String, String)>> = OnceLock::new();
    POINTS
        .get_or_init(|| {
            let text = std::env::var("CALLQA_FAILPOINT").ok()?;
            let (stage, call) = text.split_once(':')?;
            Some((stage.to_string(), call.to_string()))
        })
        .as_ref()
}

fn failpoint(stage: Stage) {
    if let Some((at, call)) = failpoints() {
        if at == stage.as_str() && CALL.with(Cell::get) == Some(call.as_str()) {
            panic!("failpoint {at}:{call}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_named_by_the_innermost_stage() {
        let result = isolated("c1", Stage::Probe, || {
            in_stage(Stage::Decode, || {
                in_stage(Stage::Resample, || -> u32 { panic!("index out of bounds") })
            })
        });
        let panicked = result.unwrap_err();
        assert_eq!(panicked.stage, Stage::Resample);
        assert_eq!(panicked.message, "index out of bounds");
        assert!(panicked
            .to_string()
            .starts_with("panic in resample (index out of bounds)"));
    }

    #[test]
    fn a_panic_on_a_rayon_thread_keeps_its_stage() {
        use rayon::prelude::*;
        let result = isolated("c2", Stage::Transcribe, || {
            (0..8)
                .into_par_iter()
                .map(|i| in_stage(Stage::Verify, || if i == 5 { panic!("chunk {i}") } else { i }))
                .sum::<i32>()
        });
        let panicked = result.unwrap_err();
        assert_eq!((panicked.stage, panicked.message.as_str()), (Stage::Verify, "chunk 5"));
        // and work that does not panic comes back whole
        assert_eq!(isolated("c3", Stage::Judge, || 7), Ok(7));
    }

    #[test]
    fn a_panic_no_stage_wrapped_is_the_outer_stage() {
        let panicked = isolated("c4", Stage::Judge, || -> () {
            panic!("{}", String::from("owned message"))
        })
        .unwrap_err();
        assert_eq!(
            (panicked.stage, panicked.message.as_str()),
            (Stage::Judge, "owned message")
        );
    }
}
