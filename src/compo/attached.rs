//! Attached files (pictures, invoices): names, extensions, magic bytes, sizes.
