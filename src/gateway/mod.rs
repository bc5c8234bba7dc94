//! What Freedom Pay is, shared by the client side (runner, transports) and the emulator:
//! the field model of a message, the `pg_sig` rule, the XML answer model, the operations
//! and their routes, the hosts a run may talk to, and the wire encodings of a request.

pub mod callback;
pub mod encoding;
pub mod fields;
pub mod operation;
pub mod signature;
pub mod target;
pub mod xml;

pub use encoding::Encoding;
pub use fields::{FieldValue, Fields};
pub use operation::{Operation, Routes, VOLATILE_FIELDS};
pub use signature::{SecretKey, Signature};
pub use target::Target;
pub use xml::{Document, Element};
