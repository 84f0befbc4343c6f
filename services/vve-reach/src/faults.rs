//! Test hooks for the crash tests of issue 16: a command can be made to die at a point, as if its
//! process were killed there (a panic: nothing after the point runs, no compensation, the
//! endpoint answers 500). Armed per command id, so tests running in parallel do not interfere;
//! nothing is armed unless a test arms it.

use std::sync::Mutex;

use uuid::Uuid;

/// Where a command can be made to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// A registration, after the child's key and retention period exist, before its append.
    BeforeRegistrationAppend,
}

static ARMED: Mutex<Vec<(Point, Uuid)>> = Mutex::new(Vec::new());

/// The next try of `command_id` dies at `point` (once).
pub fn crash_once(point: Point, command_id: Uuid) {
    if let Ok(mut armed) = ARMED.lock() {
        armed.push((point, command_id));
    }
}

/// Dies here when a test armed this point for this command.
pub(crate) fn hit(point: Point, command_id: Option<Uuid>) {
    let Some(id) = command_id else {
        return;
    };
    let armed = ARMED.lock().ok().and_then(|mut a| {
        let i = a.iter().position(|x| *x == (point, id))?;
        Some(a.remove(i))
    });
    if armed.is_some() {
        panic!("simulated crash at {point:?}");
    }
}
