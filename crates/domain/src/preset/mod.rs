//! Presets (R2.2): typed parameters rendered to recipe configuration.
