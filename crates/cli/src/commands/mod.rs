//! One module per subcommand.

pub mod blacklist;
pub mod check;
pub mod demo;
pub mod export;
pub mod normalize;
pub mod orders;
pub mod postal;
pub mod sandbox;
pub mod tracking;
