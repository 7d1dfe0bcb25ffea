//! Record checks that a JSON Schema cannot express.
