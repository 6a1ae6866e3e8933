//! The report's figures as SVG charts (plotters, SVG backend, no fonts of its own: the
//! viewer's sans-serif renders the text): per-request latency beside the peer's,
//! throughput under concurrency beside the peer's, and VmRSS over the warm invocations.
//! BENCHMARKS.md shows the committed copies beside its tables.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::Result;
use crate::phases::Results;

/// Ours and the peer's colours, in every chart.
const OURS: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const PEER: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const SIZE: (u32, u32) = (760, 420);

/// One group of bars: a label, our figure, and the peer's when it was measured.
struct Group {
    label: String,
    ours: f64,
    peer: Option<f64>,
}

/// Writes every chart the results have figures for into `dir`; returns their paths.
pub fn write(dir: &Path, results: &Results) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let latency = latency_groups(results);
    if !latency.is_empty() {
        let path = dir.join("latency.svg");
        bars(
            &path,
            "Warm request latency, p50 (ours: billed duration; peer: HTTP request)",
            "µs",
            &latency,
        )?;
        written.push(path);
    }
    let throughput = throughput_groups(results);
    if !throughput.is_empty() {
        let path = dir.join("throughput.svg");
        bars(
            &path,
            "Throughput under concurrency (closed loop, N in flight)",
            "requests/s",
            &throughput,
        )?;
        written.push(path);
    }
    let rss: Vec<(String, Vec<u64>)> = results
        .warm
        .iter()
        .map(|warm| (warm.name.clone(), warm.rss_kib.clone()))
        .collect();
    if !rss.is_empty() {
        let path = dir.join("rss.svg");
        memory(&path, &rss)?;
        written.push(path);
    }
    Ok(written)
}

/// get-me and refresh p50, ours and the peer's sequential figures.
fn latency_groups(results: &Results) -> Vec<Group> {
    let peer = results.peer.as_ref().and_then(|peer| peer.as_ref().ok());
    ["get-me", "refresh"]
        .into_iter()
        .filter_map(|name| {
            let warm = results.warm.iter().find(|warm| warm.name == name)?;
            let theirs = peer.map(|peer| match name {
                "get-me" => peer.me.p50,
                _ => peer.refresh.p50,
            });
            Some(Group {
                label: name.to_owned(),
                ours: warm.summary.p50,
                peer: theirs,
            })
        })
        .collect()
}

/// Requests per second at every concurrency level measured, ours beside the peer's.
fn throughput_groups(results: &Results) -> Vec<Group> {
    results
        .concurrency
        .iter()
        .map(|pair| Group {
            label: format!("{} x{}", pair.ours.function, pair.ours.concurrency),
            ours: pair.ours.requests_per_second(),
            peer: pair.peer.as_ref().map(|peer| peer.requests_per_second()),
        })
        .collect()
}

/// A grouped bar chart: one group per label, ours left, the peer's right.
fn bars(path: &Path, title: &str, unit: &str, groups: &[Group]) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let highest = groups
        .iter()
        .flat_map(|group| std::iter::once(group.ours).chain(group.peer))
        .fold(0.0_f64, f64::max);
    let count = groups.len();
    let labels: Vec<String> = groups.iter().map(|group| group.label.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        // Headroom for the legend above the tallest bar.
        .build_cartesian_2d(-0.5_f64..count as f64 - 0.5, 0.0..highest * 1.35)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(count.max(2))
        .x_label_formatter(&|x| label_at(&labels, *x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc(unit)
        .draw()?;
    let has_peer = groups.iter().any(|group| group.peer.is_some());
    let width = if has_peer { 0.35 } else { 0.5 };
    let ours_left = if has_peer { -width } else { -width / 2.0 };
    chart
        .draw_series(groups.iter().enumerate().map(|(index, group)| {
            let x = index as f64 + ours_left;
            Rectangle::new([(x, 0.0), (x + width, group.ours)], OURS.filled())
        }))?
        .label("Latchkey")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], OURS.filled()));
    if has_peer {
        chart
            .draw_series(groups.iter().enumerate().filter_map(|(index, group)| {
                let x = index as f64;
                group
                    .peer
                    .map(|peer| Rectangle::new([(x, 0.0), (x + width, peer)], PEER.filled()))
            }))?
            .label("Django peer")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], PEER.filled()));
    }
    // Each bar's value above it: the peer's bars can dwarf ours, whose height alone
    // would then be hard to read.
    let values = groups.iter().enumerate().flat_map(|(index, group)| {
        let ours = (index as f64 + ours_left + width / 2.0, group.ours);
        let peer = group.peer.map(|peer| (index as f64 + width / 2.0, peer));
        std::iter::once(ours).chain(peer)
    });
    chart.draw_series(values.map(|(x, value)| {
        Text::new(
            format!("{value:.0}"),
            (x, value),
            ("sans-serif", 12)
                .into_font()
                .into_text_style(&root)
                .pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    }))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The group label for an axis position: a name at each whole number, nothing between.
fn label_at(labels: &[String], x: f64) -> String {
    let nearest = x.round();
    if (x - nearest).abs() > 0.01 || nearest < 0.0 {
        return String::new();
    }
    labels.get(nearest as usize).cloned().unwrap_or_default()
}

/// VmRSS samples in order (before the measured invocations, then after each tenth), one
/// line per function, each spread over the whole width (login takes fewer samples when
/// it runs fewer than ten logins). The key stands to the right of the plot: the lines
/// lie at every height, so no corner inside it is free.
fn memory(path: &Path, series: &[(String, Vec<u64>)]) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot, key) = root.split_horizontally(SIZE.0 - 160);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let highest = series
        .iter()
        .flat_map(|(_, samples)| samples.iter().copied())
        .max()
        .map_or(1.0, mib);
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "VmRSS over the warm invocations (sampled every tenth)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0_f64..1.0, 0.0..highest * 1.2)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("share of the measured invocations")
        .x_label_formatter(&|x| format!("{:.0}%", x * 100.0))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .y_desc("MiB")
        .draw()?;
    for (index, (name, samples)) in series.iter().enumerate() {
        let colour = Palette99::pick(index).to_rgba();
        chart.draw_series(LineSeries::new(
            samples.iter().enumerate().map(|(at, kib)| {
                let share = at as f64 / samples.len().saturating_sub(1).max(1) as f64;
                (share, mib(*kib))
            }),
            colour.stroke_width(2),
        ))?;
        let y = 60 + 20 * i32::try_from(index).unwrap_or(i32::MAX / 40);
        key.draw(&PathElement::new([(4, y), (22, y)], colour.stroke_width(2)))?;
        key.draw(&Text::new(name.clone(), (28, y - 7), ("sans-serif", 12)))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_labels_sit_on_whole_numbers_only() {
        let labels = vec!["get-me".to_owned(), "refresh".to_owned()];
        assert_eq!(label_at(&labels, 0.0), "get-me");
        assert_eq!(label_at(&labels, 1.0), "refresh");
        assert_eq!(label_at(&labels, 0.5), "");
        assert_eq!(label_at(&labels, 2.0), "");
        assert_eq!(label_at(&labels, -1.0), "");
    }

    #[test]
    fn bar_and_line_charts_are_written_as_svg() {
        let dir =
            std::env::temp_dir().join(format!("latchkey-bench-charts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let groups = [
            Group {
                label: "get-me x8".to_owned(),
                ours: 3400.0,
                peer: Some(420.0),
            },
            Group {
                label: "refresh x8".to_owned(),
                ours: 1300.0,
                peer: None,
            },
        ];
        bars(&dir.join("bars.svg"), "title", "requests/s", &groups).expect("a bar chart");
        memory(
            &dir.join("rss.svg"),
            &[
                ("hello".to_owned(), vec![3560, 3560, 3564]),
                ("login".to_owned(), vec![6900]),
            ],
        )
        .expect("a line chart");
        let bars = std::fs::read_to_string(dir.join("bars.svg")).expect("bars.svg");
        let rss = std::fs::read_to_string(dir.join("rss.svg")).expect("rss.svg");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            bars.starts_with("<svg") && bars.contains("get-me x8") && bars.contains("Django peer")
        );
        assert!(rss.starts_with("<svg") && rss.contains("hello") && rss.contains("login"));
    }
}
