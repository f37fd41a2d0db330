//! The `ichigen` command.

fn main() {}
