pub mod eks;
