//! The page templates (minijinja, HTML auto-escaped) and the stylesheet, built into the binary.

use minijinja::Environment;
use serde::Serialize;

/// The console's stylesheet.
pub const CSS: &str = include_str!("templates/console.css");

const TEMPLATES: [(&str, &str); 11] = [
    ("base.html", include_str!("templates/base.html")),
    ("orders.html", include_str!("templates/orders.html")),
    ("order.html", include_str!("templates/order.html")),
    ("blacklist.html", include_str!("templates/blacklist.html")),
    ("rules.html", include_str!("templates/rules.html")),
    ("templates.html", include_str!("templates/templates.html")),
    ("io.html", include_str!("templates/io.html")),
    ("stock.html", include_str!("templates/stock.html")),
    ("stock_sku.html", include_str!("templates/stock_sku.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("message.html", include_str!("templates/message.html")),
];

/// The compiled templates.
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// Loads every template; a template that does not parse is a build defect, found by the tests.
    pub fn new() -> Pages {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                // Shown on every page that uses it (render fails with the parse error).
                eprintln!("ichigen console: template {name}: {e}");
            }
        }
        Pages { env }
    }

    /// Renders `name` with `ctx`.
    pub fn render<T: Serialize>(&self, name: &str, ctx: T) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

impl Default for Pages {
    fn default() -> Self {
        Pages::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
