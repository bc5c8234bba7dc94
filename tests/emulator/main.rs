//! The gateway emulator over real HTTP: every call, every test phone, every error, signatures
//! both ways, every request encoding, the body limit, faults, callbacks, the admin API, and
//! many flows at once. Each test starts its own emulator on 127.0.0.1:0.
//!
//! One test binary with a module per area (every test binary costs link time); the helpers
//! are in `support`.

mod admin;
mod callbacks;
mod calls;
mod faults;
mod fidelity;
mod lifecycle;
mod signatures;
mod support;
