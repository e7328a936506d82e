//! Where every value of a graph lives in the runtime's scratch buffer: offsets chosen by
//! liveness, so a value's floats are reused once its last reader has run.

use crate::inference::Graph;

/// The slot offset (in floats, from the end of the register area) of every node's value, and
/// the number of floats the slots need.
///
/// First fit by offset: node `i`'s value takes the lowest range that does not overlap a value
/// still to be read by node `i` or later (so an operation's output never overlaps its
/// operands). The output value stays live to the end. For an MLP this is a ping-pong between
/// two ranges of the widest layers.
pub(crate) fn allocate(graph: &Graph, widths: &[usize]) -> (Vec<usize>, usize) {
    let n = graph.nodes.len();
    let mut last_use: Vec<usize> = (0..n).collect();
    for (i, node) in graph.nodes.iter().enumerate() {
        for x in node.inputs() {
            if let Some(l) = last_use.get_mut(x as usize) {
                *l = (*l).max(i);
            }
        }
    }
    if let Some(l) = last_use.get_mut(graph.output as usize) {
        *l = usize::MAX;
    }
    // (offset, length, node) of the values still live, sorted by offset.
    let mut live: Vec<(usize, usize, usize)> = Vec::new();
    let (mut offsets, mut end) = (vec![0usize; n], 0usize);
    for (i, &w) in widths.iter().enumerate() {
        live.retain(|&(_, _, v)| last_use[v] >= i);
        let mut off = 0;
        for &(o, l, _) in &live {
            if o >= off + w {
                break;
            }
            off = off.max(o + l);
        }
        offsets[i] = off;
        end = end.max(off + w);
        let at = live.partition_point(|&(o, _, _)| o < off);
        live.insert(at, (off, w, i));
    }
    (offsets, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::Node;

    fn mlp(sizes: &[usize]) -> (Graph, Vec<usize>) {
        let mut nodes = vec![Node::Input];
        for (l, w) in sizes.windows(2).enumerate() {
            nodes.push(Node::Dense {
                x: nodes.len() as u32 - 1,
                weight: vec![0.0; w[0] * w[1]],
                n: w[1] as u32,
                bias: None,
            });
            if l + 2 < sizes.len() {
                nodes.push(Node::Concat {
                    parts: vec![nodes.len() as u32 - 1],
                });
            }
        }
        let g = Graph {
            input_width: sizes[0],
            output: nodes.len() as u32 - 1,
            nodes,
        };
        let widths = g.widths().unwrap();
        (g, widths)
    }

    #[test]
    fn an_mlp_ping_pongs_between_two_ranges() {
        let (g, widths) = mlp(&[2, 64, 64, 64, 1]);
        let (offsets, end) = allocate(&g, &widths);
        // The input, then two 64-wide ranges in turn.
        assert!(end <= 2 + 2 * 64, "{end}: {offsets:?}");
        // Every node's value is disjoint from the values it reads.
        for (i, node) in g.nodes.iter().enumerate() {
            for x in node.inputs() {
                let (a, b) = (offsets[i], offsets[x as usize]);
                let (wa, wb) = (widths[i], widths[x as usize]);
                assert!(a + wa <= b || b + wb <= a, "node {i} overlaps node {x}");
            }
        }
    }

    #[test]
    fn the_output_is_never_overwritten() {
        // The output (node 1) is read by nobody but must survive nodes 2 and 3.
        let g = Graph {
            input_width: 4,
            nodes: vec![
                Node::Input,
                Node::Slice {
                    x: 0,
                    start: 0,
                    len: 2,
                },
                Node::Slice {
                    x: 0,
                    start: 2,
                    len: 2,
                },
                Node::Concat { parts: vec![2] },
            ],
            output: 1,
        };
        let widths = g.widths().unwrap();
        let (offsets, _) = allocate(&g, &widths);
        for i in [2, 3] {
            assert!(offsets[i] >= offsets[1] + 2 || offsets[i] + 2 <= offsets[1]);
        }
    }
}
