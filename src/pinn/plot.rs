//! Heat-map plots written as PNG with no dependencies: a minimal PNG encoder (stored deflate
//! blocks, CRC-32, Adler-32), a perceptual colour map, a colour bar per panel and a tiny
//! bitmap font for titles and scale labels.

use std::path::Path;

use super::error::PinnError;

/// A scalar field on a regular `nx × ny` grid, row `iy * nx + ix` (the layout of
/// [`PinnProblem::test_grid`](super::PinnProblem::test_grid)), drawn with `x` to the right
/// and `y` upwards.
#[derive(Clone, Debug)]
pub struct HeatMap {
    /// Title drawn above the panel.
    pub title: String,
    /// Points along the horizontal axis.
    pub nx: usize,
    /// Points along the vertical axis.
    pub ny: usize,
    /// `nx * ny` values.
    pub values: Vec<f64>,
}

impl HeatMap {
    /// A panel titled `title`.
    pub fn new(title: &str, nx: usize, ny: usize, values: Vec<f64>) -> Self {
        Self {
            title: title.into(),
            nx,
            ny,
            values,
        }
    }
}

/// An RGB image.
#[derive(Clone, Debug)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` pixels, row-major from the top.
    pub pixels: Vec<[u8; 3]>,
}

impl Image {
    /// A white image.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![[255; 3]; width * height],
        }
    }

    fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x] = c;
        }
    }

    /// Encodes as PNG (8-bit RGB, uncompressed deflate).
    pub fn to_png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.height * (1 + 3 * self.width));
        for row in self.pixels.chunks(self.width) {
            raw.push(0); // filter: none
            for p in row {
                raw.extend_from_slice(p);
            }
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(self.width as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.height as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &zlib_stored(&raw));
        chunk(&mut png, b"IEND", &[]);
        png
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE, as used by PNG and zip).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Adler-32 (the zlib checksum).
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// The colour of `v ∈ [0, 1]` on a viridis-like map (dark blue → green → yellow).
pub fn colormap(v: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 6] = [
        [68.0, 1.0, 84.0],
        [65.0, 68.0, 135.0],
        [42.0, 120.0, 142.0],
        [34.0, 168.0, 132.0],
        [122.0, 209.0, 81.0],
        [253.0, 231.0, 37.0],
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let s = v * (STOPS.len() - 1) as f64;
    let i = (s.floor() as usize).min(STOPS.len() - 2);
    let f = s - i as f64;
    let mut c = [0u8; 3];
    for k in 0..3 {
        c[k] = (STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k])).round() as u8;
    }
    c
}

/// 3 × 5 glyphs (rows top to bottom, 3 bits each, MSB left).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_lowercase() {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        '+' => [0, 2, 7, 2, 0],
        '|' => [2, 2, 2, 2, 2],
        ':' => [0, 2, 0, 2, 0],
        '=' => [0, 7, 0, 7, 0],
        '(' => [1, 2, 2, 2, 1],
        ')' => [4, 2, 2, 2, 4],
        'a' => [2, 5, 7, 5, 5],
        'b' => [6, 5, 6, 5, 6],
        'c' => [7, 4, 4, 4, 7],
        'd' => [6, 5, 5, 5, 6],
        'e' => [7, 4, 6, 4, 7],
        'f' => [7, 4, 6, 4, 4],
        'g' => [7, 4, 5, 5, 7],
        'h' => [5, 5, 7, 5, 5],
        'i' => [7, 2, 2, 2, 7],
        'k' => [5, 5, 6, 5, 5],
        'l' => [4, 4, 4, 4, 7],
        'm' => [5, 7, 7, 5, 5],
        'n' => [6, 5, 5, 5, 5],
        'o' => [7, 5, 5, 5, 7],
        'p' => [7, 5, 7, 4, 4],
        'r' => [6, 5, 6, 5, 5],
        's' => [7, 4, 7, 1, 7],
        't' => [7, 2, 2, 2, 2],
        'u' => [5, 5, 5, 5, 7],
        'v' => [5, 5, 5, 5, 2],
        'w' => [5, 5, 7, 7, 5],
        'x' => [5, 5, 2, 5, 5],
        'y' => [5, 5, 2, 2, 2],
        _ => [0; 5],
    }
}

/// Draws `text` with its top-left corner at `(x, y)`, each font pixel `scale` pixels wide.
pub fn draw_text(img: &mut Image, x: usize, y: usize, text: &str, scale: usize) {
    for (k, c) in text.chars().enumerate() {
        let g = glyph(c);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            img.set(
                                x + (k * 4 + col) * scale + dx,
                                y + row * scale + dy,
                                [0, 0, 0],
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Renders panels side by side, each with its own colour bar labelled with its range, and
/// the axis names (`axes[0]` horizontal, `axes[1]` vertical).
pub fn render_panels(panels: &[HeatMap], axes: &[&str]) -> Result<Image, PinnError> {
    for p in panels {
        if p.values.len() != p.nx * p.ny || p.nx == 0 || p.ny == 0 {
            return Err(PinnError::ShapeMismatch {
                context: "HeatMap values (nx * ny)",
                expected: vec![p.nx * p.ny],
                got: vec![p.values.len()],
            });
        }
    }
    const TARGET: usize = 240;
    let (margin, bar_w, label_w, title_h, scale) = (20, 14, 64, 24, 2);
    let dims: Vec<(usize, usize)> = panels
        .iter()
        .map(|p| {
            let sx = (TARGET / p.nx).max(1);
            let sy = (TARGET / p.ny).max(1);
            (p.nx * sx, p.ny * sy)
        })
        .collect();
    let height = dims.iter().map(|d| d.1).max().unwrap_or(0) + title_h + 2 * margin;
    let width: usize = dims
        .iter()
        .map(|d| d.0 + margin + bar_w + label_w)
        .sum::<usize>()
        + margin;
    let mut img = Image::new(width, height);
    let mut x0 = margin;
    for (p, &(w, h)) in panels.iter().zip(&dims) {
        let y0 = margin + title_h;
        let lo = p.values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = p.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let span = if hi > lo { hi - lo } else { 1.0 };
        draw_text(&mut img, x0, margin, &p.title, scale);
        for py in 0..h {
            let iy = p.ny - 1 - py * p.ny / h;
            for px in 0..w {
                let ix = px * p.nx / w;
                let v = p.values[iy * p.nx + ix];
                img.set(x0 + px, y0 + py, colormap((v - lo) / span));
            }
        }
        if let [ax, ay, ..] = axes {
            draw_text(&mut img, x0 + w / 2, y0 + h + 4, ax, scale);
            draw_text(&mut img, x0.saturating_sub(10), y0 + h / 2, ay, scale);
        }
        let bx = x0 + w + margin / 2;
        for py in 0..h {
            let c = colormap(1.0 - py as f64 / (h - 1).max(1) as f64);
            for dx in 0..bar_w {
                img.set(bx + dx, y0 + py, c);
            }
        }
        draw_text(&mut img, bx + bar_w + 3, y0, &format!("{hi:.2e}"), scale);
        draw_text(
            &mut img,
            bx + bar_w + 3,
            y0 + h - 10,
            &format!("{lo:.2e}"),
            scale,
        );
        x0 += w + margin + bar_w + label_w;
    }
    Ok(img)
}

/// Renders `panels` (see [`render_panels`]) and writes the PNG to `path`.
///
/// ```
/// use pinn_jit::pinn::plot::{save_panels, HeatMap};
/// let v: Vec<f64> = (0..12).map(f64::from).collect();
/// let path = std::env::temp_dir().join("pinn_plot_doc.png");
/// save_panels(&path, &[HeatMap::new("u", 4, 3, v)], &["x", "t"]).unwrap();
/// assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
/// ```
pub fn save_panels(path: &Path, panels: &[HeatMap], axes: &[&str]) -> Result<(), PinnError> {
    let img = render_panels(panels, axes)?;
    std::fs::write(path, img.to_png()).map_err(|e| {
        PinnError::Io(format!(
            "cannot write the plot to {}: {e}; pass a writable path with --plot",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(crc32(b""), 0);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn png_structure_is_valid() {
        let mut img = Image::new(3, 2);
        img.set(1, 1, [1, 2, 3]);
        let png = img.to_png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 3);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2);
        // IDAT: zlib header, one final stored block of 2 * (1 + 9) bytes, Adler-32
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        let z = &png[41..41 + idat_len];
        assert_eq!(&z[..3], &[0x78, 0x01, 1]);
        assert_eq!(u16::from_le_bytes([z[3], z[4]]), 20);
        let raw = &z[7..27];
        assert_eq!(&raw[10..14], &[0, 255, 255, 255]);
        assert_eq!(&raw[14..17], &[1, 2, 3]);
        assert_eq!(adler32(raw).to_be_bytes(), z[27..31]);
        let crc_at = 41 + idat_len;
        assert_eq!(
            u32::from_be_bytes(png[crc_at..crc_at + 4].try_into().unwrap()),
            crc32(&png[37..41 + idat_len])
        );
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn large_images_split_into_stored_blocks() {
        let z = zlib_stored(&vec![7u8; 70_000]);
        assert_eq!(z.len(), 2 + 5 + 65535 + 5 + (70_000 - 65535) + 4);
        assert_eq!(z[2], 0);
        assert_eq!(z[2 + 5 + 65535], 1);
    }

    #[test]
    fn panels_render_with_colour_extremes() {
        let v: Vec<f64> = (0..20).map(f64::from).collect();
        let img = render_panels(&[HeatMap::new("u", 5, 4, v)], &["x", "t"]).unwrap();
        assert!(img.pixels.contains(&colormap(0.0)));
        assert!(img.pixels.contains(&colormap(1.0)));
        assert!(render_panels(&[HeatMap::new("u", 5, 4, vec![0.0; 3])], &[]).is_err());
    }
}
