//! One module per subcommand.

pub mod check;
pub mod normalize;
pub mod postal;
pub mod sandbox;
