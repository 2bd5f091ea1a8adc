//! Orthogonal routing of the graph's arrows, so that no arrow crosses a box.
//!
//! Boxes sit in rows (every arrow points down, to a later row) and columns. An arrow leaves the
//! bottom of its source, runs sideways in the channel under the source's row, and enters the
//! top of its target. When rows lie between, it runs down a free vertical — the target's own
//! centre line if nothing sits above the target in its column, else the gutter at the column's
//! left — and sideways again in the channel above the target. Arrows to the same target share
//! their lanes, so they merge like a bus instead of running side by side.

/// A box (or a workload's pill, in the row above the first: `row` `None`).
pub struct Anchor {
    pub row: Option<usize>,
    pub column: usize,
    pub x: f64,
    pub width: f64,
}

/// The heights the layout uses.
pub struct Metrics {
    /// The workloads' pills, at the top.
    pub pill_h: f64,
    pub box_h: f64,
    /// Extra space after the first channel, for the columns' headers.
    pub header: f64,
    pub lane: f64,
    /// Arrows stop this far above their target, for the arrowhead.
    pub arrow: f64,
}

pub struct Routing {
    /// The top of each row, and the bottom of the last.
    pub tops: Vec<f64>,
    /// The points of each link's arrow, in the order of the links.
    pub paths: Vec<Vec<(f64, f64)>>,
}

/// What one link needs, before the lanes give it heights.
struct Plan {
    sx: f64,
    tx: f64,
    /// The channel under the source's row (0: under the pills; r + 1: under row r).
    channel: usize,
    /// Where the arrow goes down past the rows between, when there are any.
    via: Option<f64>,
}

/// Routes `links` (source, target) between `anchors`; `column_left` gives each column's left
/// edge (its gutter starts there).
pub fn route(
    anchors: &[Anchor],
    links: &[(usize, usize)],
    rows: usize,
    column_left: &dyn Fn(usize) -> f64,
    m: &Metrics,
) -> Routing {
    let gutters = gutters(anchors, links);
    let heads: Vec<(Option<f64>, f64)> = links
        .iter()
        .map(|&(s, t)| {
            let target = &anchors[t];
            let tx = target.x + target.width / 2.0;
            let channel = channel_of(&anchors[s]);
            (
                via(anchors, channel, target, tx, column_left, &gutters, t),
                tx,
            )
        })
        .collect();
    let firsts: Vec<f64> = heads.iter().map(|&(via, tx)| via.unwrap_or(tx)).collect();
    let plans: Vec<Plan> = links
        .iter()
        .zip(&heads)
        .map(|(&(s, t), &(via, tx))| Plan {
            sx: slot(anchors, links, &firsts, s, t),
            tx,
            channel: channel_of(&anchors[s]),
            via,
        })
        .collect();
    // Lanes: per channel, the targets whose arrows run sideways in it.
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); rows + 1];
    for (plan, &(_, t)) in plans.iter().zip(links) {
        let first = plan.via.unwrap_or(plan.tx);
        if (plan.sx - first).abs() > 0.5 {
            push_once(&mut lanes[plan.channel], t);
        }
        if let (Some(via), Some(row)) = (plan.via, anchors[t].row)
            && (via - plan.tx).abs() > 0.5
        {
            push_once(&mut lanes[row], t);
        }
    }
    let (tops, channel_tops) = heights(&lanes, rows, m);
    let lane_y = |channel: usize, t: usize| {
        let k = lanes[channel].iter().position(|&x| x == t).unwrap_or(0);
        channel_tops[channel] + 12.0 + m.lane * k as f64
    };
    let paths = plans
        .iter()
        .zip(links)
        .map(|(plan, &(s, t))| {
            let source = &anchors[s];
            let sy = source.row.map_or(m.pill_h + 2.0, |r| tops[r] + m.box_h);
            let ty = anchors[t].row.map_or(0.0, |r| tops[r]) - m.arrow + 1.0;
            let mut points = vec![(plan.sx, sy)];
            let first = plan.via.unwrap_or(plan.tx);
            if (plan.sx - first).abs() > 0.5 {
                let y = lane_y(plan.channel, t);
                points.extend([(plan.sx, y), (first, y)]);
            }
            if let (Some(via), Some(row)) = (plan.via, anchors[t].row)
                && (via - plan.tx).abs() > 0.5
            {
                let y = lane_y(row, t);
                points.extend([(via, y), (plan.tx, y)]);
            }
            points.push((plan.tx, ty));
            points
        })
        .collect();
    Routing { tops, paths }
}

fn channel_of(anchor: &Anchor) -> usize {
    anchor.row.map_or(0, |r| r + 1)
}

fn push_once(list: &mut Vec<usize>, item: usize) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Per column, the targets whose arrows need its gutter (a box sits above them in the column,
/// below the source's row), in the order met.
fn gutters(anchors: &[Anchor], links: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let columns = anchors
        .iter()
        .filter(|a| a.row.is_some())
        .map(|a| a.column + 1)
        .max()
        .unwrap_or(0);
    let mut gutters = vec![Vec::new(); columns];
    for &(s, t) in links {
        let target = &anchors[t];
        let Some(row) = target.row else { continue };
        if blocked(anchors, channel_of(&anchors[s]), row, target.column) {
            push_once(&mut gutters[target.column], t);
        }
    }
    gutters
}

/// Whether a box sits in `column` in the rows `from..to`.
fn blocked(anchors: &[Anchor], from: usize, to: usize, column: usize) -> bool {
    anchors
        .iter()
        .any(|a| a.column == column && a.row.is_some_and(|r| r >= from && r < to))
}

/// Where the arrow goes down past the rows between its channel and its target, if any.
fn via(
    anchors: &[Anchor],
    channel: usize,
    target: &Anchor,
    tx: f64,
    column_left: &dyn Fn(usize) -> f64,
    gutters: &[Vec<usize>],
    t: usize,
) -> Option<f64> {
    let row = target.row?;
    if row == channel {
        return None;
    }
    if !blocked(anchors, channel, row, target.column) {
        return Some(tx);
    }
    let k = gutters[target.column]
        .iter()
        .position(|&x| x == t)
        .unwrap_or(0);
    Some(column_left(target.column) + 12.0 + 6.0 * k.min(5) as f64)
}

/// Where on its source's bottom edge the arrow to `t` leaves: the source's targets spread
/// evenly, ordered by where each arrow heads first, so that arrows do not cross at the source.
fn slot(anchors: &[Anchor], links: &[(usize, usize)], firsts: &[f64], s: usize, t: usize) -> f64 {
    let mut heads: Vec<(f64, usize)> = links
        .iter()
        .zip(firsts)
        .filter(|((from, _), _)| *from == s)
        .map(|(&(_, to), &first)| (first, to))
        .collect();
    heads.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    heads.dedup_by_key(|h| h.1);
    let source = &anchors[s];
    let k = heads.iter().position(|h| h.1 == t).unwrap_or(0);
    source.x + source.width * (k + 1) as f64 / (heads.len() + 1) as f64
}

/// Row tops and channel tops from the number of lanes in each channel.
fn heights(lanes: &[Vec<usize>], rows: usize, m: &Metrics) -> (Vec<f64>, Vec<f64>) {
    let mut tops = Vec::with_capacity(rows + 1);
    let mut channel_tops = Vec::with_capacity(rows + 1);
    let mut y = m.pill_h + 2.0;
    for (c, lane) in lanes.iter().enumerate() {
        channel_tops.push(y);
        y += 18.0 + m.lane * lane.len() as f64;
        if c == 0 {
            y += m.header;
        }
        if c < rows {
            tops.push(y);
            y += m.box_h;
        }
    }
    tops.push(y);
    (tops, channel_tops)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Metrics = Metrics {
        pill_h: 28.0,
        box_h: 40.0,
        header: 20.0,
        lane: 7.0,
        arrow: 7.0,
    };

    fn anchor(row: usize, column: usize) -> Anchor {
        Anchor {
            row: Some(row),
            column,
            x: 100.0 * column as f64 + 20.0,
            width: 60.0,
        }
    }

    /// Whether an axis-parallel segment passes through a box's interior.
    fn crosses(a: (f64, f64), b: (f64, f64), x: f64, y: f64, w: f64, h: f64) -> bool {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        x1 > x && x0 < x + w && y1 > y && y0 < y + h
    }

    #[test]
    fn no_arrow_crosses_a_box() {
        // Two columns, three rows, every column full: links from row 0 to row 2 need the gutter,
        // and one from a pill crosses to the other column.
        let mut anchors: Vec<Anchor> = (0..3)
            .flat_map(|r| (0..2).map(move |c| anchor(r, c)))
            .collect();
        anchors.push(Anchor {
            row: None,
            column: usize::MAX,
            x: 60.0,
            width: 80.0,
        });
        let links = [
            (0, 2),
            (0, 4),
            (0, 5),
            (1, 4),
            (2, 4),
            (3, 5),
            (6, 0),
            (6, 1),
        ];
        let routing = route(&anchors, &links, 3, &|c| 100.0 * c as f64, &M);
        for (path, &(s, t)) in routing.paths.iter().zip(&links) {
            assert_eq!(
                path.last().unwrap().0,
                anchors[t].x + 30.0,
                "ends above the target"
            );
            for pair in path.windows(2) {
                assert!(
                    pair[0].0 == pair[1].0 || pair[0].1 == pair[1].1,
                    "orthogonal"
                );
                for (i, a) in anchors
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != s && *i != t)
                {
                    let Some(row) = a.row else { continue };
                    let y = routing.tops[row];
                    assert!(
                        !crosses(pair[0], pair[1], a.x, y, a.width, M.box_h),
                        "link {s}->{t} crosses box {i}: {pair:?}"
                    );
                }
            }
        }
    }
}
