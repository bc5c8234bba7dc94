//! Integration tests of the `fph` binary: one test binary, a `mod` per area, small helpers.

mod bad_input;
mod bench;
mod callback;
mod cassettes;
mod drift;
mod emulator;
mod init;
mod proxy;
mod reports;
mod review;
mod run;
mod safety;
mod schema;
mod secrets;
mod sign;
mod support;
