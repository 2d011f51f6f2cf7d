//! ch07-inspect: being written.
fn main() {}
