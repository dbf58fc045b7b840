//! Terraform actions (`action` blocks, Terraform 1.14+): one [`Action`] per type, found by
//! type name in [`ACTIONS`].

pub mod notify;
pub mod restart;

use super::action::Action;

/// Every action type this provider serves.
pub static ACTIONS: [&dyn Action; 2] = [&restart::Restart, &notify::Notify];

pub fn find(type_name: &str) -> Option<&'static dyn Action> {
    ACTIONS.iter().copied().find(|a| a.type_name() == type_name)
}
