//! Integration tests of the `fph` binary: one test binary, a `mod` per area, small helpers.

mod review;
mod sign;
mod support;
