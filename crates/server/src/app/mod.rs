//! Typed use cases: each authorizes its caller, runs the domain through storage with its
//! journal row, and returns a typed outcome. The API, the console and the command line call
//! these, never one another's handlers.

pub mod billing;
pub mod contracts;
pub mod presets;
