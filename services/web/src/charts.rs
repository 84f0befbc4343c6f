//! Server-rendered inline SVG charts with a text alternative (`<title>`/`<desc>` and
//! `aria-labelledby`). The data table is always shown beside the chart by the caller. A
//! suppressed cell (`None`) is drawn as no bar and named in the description.

use maud::{html, Markup, PreEscaped};

/// One data series.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// Colour with at least 3:1 contrast against white (WCAG 1.4.11).
    pub colour: &'static str,
    pub values: Vec<Option<u64>>,
}

/// Series colours (each ≥ 3:1 against white, distinguishable).
pub const COLOURS: [&str; 3] = ["#154273", "#b35900", "#2e7d32"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn describe(categories: &[String], series: &[Series]) -> String {
    let mut parts = Vec::new();
    for (i, c) in categories.iter().enumerate() {
        let vals: Vec<String> = series
            .iter()
            .map(|s| match s.values.get(i).copied().flatten() {
                Some(v) => format!("{} {v}", s.name),
                None => format!("{} onderdrukt", s.name),
            })
            .collect();
        parts.push(format!("{c}: {}", vals.join(", ")));
    }
    parts.join("; ")
}

fn legend(series: &[Series]) -> Markup {
    html! {
        ul class="legend" aria-hidden="true" {
            @for s in series {
                li {
                    (PreEscaped(format!(r#"<svg class="swatch" width="14" height="14" viewBox="0 0 14 14" focusable="false"><rect width="14" height="14" fill="{}"/></svg>"#, s.colour)))
                    " " (s.name)
                }
            }
        }
    }
}

/// Horizontal grouped bars, one group per category.
pub fn bar_chart(id: &str, title: &str, categories: &[String], series: &[Series]) -> Markup {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let label_w = 190.0;
    let plot_w = 380.0;
    let bar_h = 16.0;
    let gap = 10.0;
    let group_h = bar_h * series.len() as f64 + gap;
    let height = 20.0 + group_h * categories.len() as f64;
    let width = label_w + plot_w + 60.0;
    let mut svg = String::new();
    for (ci, c) in categories.iter().enumerate() {
        let y0 = 10.0 + group_h * ci as f64;
        svg.push_str(&format!(
            r##"<text x="{:.0}" y="{:.1}" text-anchor="end" font-size="13" fill="#1a1a1a">{}</text>"##,
            label_w - 8.0,
            y0 + group_h / 2.0,
            esc(&truncate(c, 28))
        ));
        for (si, s) in series.iter().enumerate() {
            let y = y0 + bar_h * si as f64;
            match s.values.get(ci).copied().flatten() {
                Some(v) => {
                    let w = (v as f64 / max as f64) * plot_w;
                    svg.push_str(&format!(
                        r##"<rect x="{label_w:.0}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1a1a1a">{v}</text>"##,
                        bar_h - 2.0,
                        s.colour,
                        label_w + w + 4.0,
                        y + bar_h - 5.0
                    ));
                }
                None => svg.push_str(&format!(
                    r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#4a4a4a">onderdrukt</text>"##,
                    label_w + 4.0,
                    y + bar_h - 5.0
                )),
            }
        }
    }
    svg.push_str(&format!(
        r##"<line x1="{label_w:.0}" y1="5" x2="{label_w:.0}" y2="{:.0}" stroke="#4a4a4a"/>"##,
        height - 5.0
    ));
    figure(
        id,
        title,
        &describe(categories, series),
        width,
        height,
        &svg,
        series,
    )
}

/// A line chart over ordered categories (quarters).
pub fn line_chart(id: &str, title: &str, categories: &[String], series: &[Series]) -> Markup {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, top, plot_w, plot_h) = (50.0, 15.0, 520.0, 200.0);
    let width = left + plot_w + 30.0;
    let height = top + plot_h + 45.0;
    let n = categories.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + plot_w * i as f64 / n;
    let y = |v: u64| top + plot_h - plot_h * v as f64 / max as f64;
    let mut svg = String::new();
    for t in 0..=4 {
        let v = max * t / 4;
        let yy = y(v);
        svg.push_str(&format!(
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.0}" y2="{yy:.1}" stroke="#d0d0d0"/><text x="{:.0}" y="{:.1}" text-anchor="end" font-size="12" fill="#1a1a1a">{v}</text>"##,
            left + plot_w,
            left - 6.0,
            yy + 4.0
        ));
    }
    for (i, c) in categories.iter().enumerate() {
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.0}" text-anchor="middle" font-size="12" fill="#1a1a1a">{}</text>"##,
            x(i),
            top + plot_h + 20.0,
            esc(c)
        ));
    }
    for s in series {
        let mut path = String::new();
        let mut pen_up = true;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    path.push_str(&format!(
                        "{}{:.1},{:.1} ",
                        if pen_up { "M" } else { "L" },
                        x(i),
                        y(*v)
                    ));
                    pen_up = false;
                    svg.push_str(&format!(
                        r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{}"/>"##,
                        x(i),
                        y(*v),
                        s.colour
                    ));
                }
                None => pen_up = true,
            }
        }
        svg.push_str(&format!(
            r##"<path d="{path}" fill="none" stroke="{}" stroke-width="3"/>"##,
            s.colour
        ));
    }
    figure(
        id,
        title,
        &describe(categories, series),
        width,
        height,
        &svg,
        series,
    )
}

fn figure(
    id: &str,
    title: &str,
    desc: &str,
    width: f64,
    height: f64,
    inner: &str,
    series: &[Series],
) -> Markup {
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>{inner}</svg>"##,
        esc(title),
        esc(desc)
    );
    html! {
        figure class="chart" {
            figcaption { (title) }
            (legend(series))
            (PreEscaped(svg))
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}
