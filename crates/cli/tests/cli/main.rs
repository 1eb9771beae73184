//! The `mpc` binary as a user runs it.

mod billing;
mod commands;
mod mobile;
mod support;
