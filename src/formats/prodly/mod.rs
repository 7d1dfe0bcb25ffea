//! COMPO data to Prodly NDJSON request bodies, and Prodly order exports to COMPO orders.
