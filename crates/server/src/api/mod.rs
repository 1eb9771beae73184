//! The HTTP API: `/api/v1` JSON resources plus operational endpoints.

pub mod health;
pub mod v1;
