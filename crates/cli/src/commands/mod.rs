//! One module per subcommand.

pub mod blacklist;
pub mod check;
pub mod console;
pub mod dead_letters;
pub mod demo;
pub mod export;
pub mod mail;
pub mod normalize;
pub mod orders;
pub mod postal;
pub mod print;
pub mod sandbox;
pub mod shop;
pub mod stock;
pub mod tracking;
