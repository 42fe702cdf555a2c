//! (being written) Profile loading.
