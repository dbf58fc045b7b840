//! The domain, one folder per resource with the same modules (`spec`, `validate`, `bundle`,
//! `observe`), and the pieces they share: the rendered-object type, the validation report,
//! the formats both validate, quantities and the live-object comparison behind drift.
//! Pure: no I/O, no Terraform, no cluster.

pub mod application;
pub mod cluster;
pub mod foreign_fields;
pub mod formats;
pub mod live_diff;
pub mod managed_fields;
pub mod notification;
pub mod object;
pub mod quantity;
pub mod report;
