//! The exchange pipeline: detect, claim, validate, transform, publish, archive.
