//! Placeholder for the order-check benchmarks.

fn main() {}
