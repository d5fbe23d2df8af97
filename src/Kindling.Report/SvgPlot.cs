using System.Globalization;
using System.Text;

namespace Kindling.Report;

/// <summary>One curve of a <see cref="SvgPlot.LineChart"/>.</summary>
/// <param name="Name">Legend label; also written to the <c>data-series</c> attribute so tools and tests can find the curve.</param>
/// <param name="X">X values (e.g. epochs); must have as many entries as <paramref name="Y"/>.</param>
/// <param name="Y">Y values; a non-finite entry (NaN, ±∞) breaks the line instead of being drawn.</param>
/// <param name="Color">Any SVG/CSS colour; null takes the next colour of <see cref="SvgPlot.Palette"/>.</param>
/// <param name="Dashed">Draws the line dashed, so e.g. validation can be told from training without relying on colour alone.</param>
/// <param name="Markers">Draws each point as a dot without connecting lines (a scatter plot, e.g. predicted vs actual); the
/// values are then on a <c>&lt;g class="markers"&gt;</c> element's <c>data-x</c>/<c>data-y</c>.</param>
/// <param name="Lower">With <paramref name="Upper"/>: a shaded band around the line (e.g. mean ± one standard deviation
/// across seeds), one value per point; drawn under the line as a <c>&lt;polygon class="band"&gt;</c>.</param>
/// <param name="Upper">The band's upper edge.</param>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, string? Color = null, bool Dashed = false, bool Markers = false,
    IReadOnlyList<double>? Lower = null, IReadOnlyList<double>? Upper = null);

/// <summary>
/// Dependency-free SVG charts for run reports. The output is deterministic, self-contained (no ids, no CSS,
/// no external fonts) so several charts can be inlined in one HTML page without interfering with each other.
/// </summary>
public static class SvgPlot
{
    /// <summary>Width of every chart in pixels (the viewBox scales it down on narrow pages).</summary>
    public const int Width = 720;

    /// <summary>Height of every chart in pixels.</summary>
    public const int Height = 420;

    // The right margin holds the legend: outside the plot area it can never hide a curve.
    private const double MarginLeft = 74, MarginRight = 170, MarginTop = 46, MarginBottom = 58;
    private const double PlotW = Width - MarginLeft - MarginRight, PlotH = Height - MarginTop - MarginBottom;
    private const double Inset = 7;
    private const int LegendMaxChars = 17;
    private const int MarkerMaxPoints = 25;
    private const string Font = "DejaVu Sans, Helvetica, Arial, sans-serif";

    /// <summary>
    /// Okabe–Ito colours, ordered so the first few are the most distinguishable for colour-blind readers;
    /// yellow is last because it is hard to see on white.
    /// </summary>
    public static IReadOnlyList<string> Palette { get; } =
        ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

    /// <summary>
    /// Renders a line chart as a standalone SVG document (no XML declaration, so it can be inlined in HTML as is).
    /// Each drawn segment is a <c>&lt;polyline&gt;</c> with <c>data-series</c>, and <c>data-x</c>/<c>data-y</c> holding
    /// the segment's raw values in round-trip format, so a reader can check the curve against the source metrics exactly.
    /// </summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X-axis label.</param>
    /// <param name="yLabel">Y-axis label.</param>
    /// <param name="series">Curves to draw; empty or all-non-finite data gives a chart that says "no data".</param>
    /// <param name="logY">Logarithmic y axis; values ≤ 0 then cannot be placed and break the line like NaN does.</param>
    /// <param name="markX">An x value to mark with a dashed vertical line (e.g. the epoch early stopping kept); null for none.</param>
    /// <param name="markLabel">Text beside the marker line.</param>
    /// <returns>The SVG markup.</returns>
    /// <exception cref="ArgumentException">A series has different X and Y lengths.</exception>
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logY = false, double? markX = null, string? markLabel = null)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(xLabel);
        ArgumentNullException.ThrowIfNull(yLabel);
        ArgumentNullException.ThrowIfNull(series);
        foreach (var s in series)
        {
            if (s is null) throw new ArgumentException("series list contains null", nameof(series));
            ArgumentNullException.ThrowIfNull(s.Name);
            ArgumentNullException.ThrowIfNull(s.X);
            ArgumentNullException.ThrowIfNull(s.Y);
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.X.Count} x values but {s.Y.Count} y values", nameof(series));
            if ((s.Lower == null) != (s.Upper == null) || s.Lower != null && (s.Lower.Count != s.X.Count || s.Upper!.Count != s.X.Count))
                throw new ArgumentException($"series '{s.Name}': a band needs Lower and Upper with one value per point ({s.X.Count})", nameof(series));
        }

        bool Usable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logY || y > 0);

        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        bool xAllIntegers = true;
        foreach (var s in series)
            for (int i = 0; i < s.X.Count; i++)
            {
                double x = s.X[i], y = s.Y[i];
                if (!Usable(x, y)) continue;
                xMin = Math.Min(xMin, x); xMax = Math.Max(xMax, x);
                yMin = Math.Min(yMin, y); yMax = Math.Max(yMax, y);
                xAllIntegers &= x == Math.Floor(x);
                if (s.Lower != null && Usable(x, s.Lower[i]) && Usable(x, s.Upper![i]))
                {
                    yMin = Math.Min(yMin, s.Lower[i]); yMax = Math.Max(yMax, s.Upper[i]);
                }
            }

        var sb = new StringBuilder(8192);
        OpenSvg(sb, title);
        if (!double.IsFinite(xMin))
        {
            DrawAxisLabels(sb, xLabel, yLabel);
            sb.Append(CultureInfo.InvariantCulture, $"""<rect x="{MarginLeft}" y="{MarginTop}" width="{PlotW}" height="{PlotH}" fill="none" stroke="#999999"/>""").Append('\n');
            sb.Append(CultureInfo.InvariantCulture, $"""<text class="no-data" x="{MarginLeft + PlotW / 2}" y="{MarginTop + PlotH / 2}" text-anchor="middle" font-size="16" fill="#777777">no data</text>""").Append('\n');
            return sb.Append("</svg>\n").ToString();
        }

        // Integer x (epochs, steps) gets integer ticks: "1.5 epochs" would be a meaningless label.
        var xTicks = NiceTicks(xMin, xMax, 6, integerStep: xAllIntegers);
        double x0 = xTicks[0], x1 = xTicks[^1];
        var yTicks = logY ? LogTicks(yMin, yMax) : NiceTicks(yMin, yMax, 6);
        double t0 = logY ? Math.Log10(yTicks[0]) : yTicks[0], t1 = logY ? Math.Log10(yTicks[^1]) : yTicks[^1];

        // The outermost ticks sit a few pixels inside the frame, so a curve that runs along the axis limit
        // (accuracy reaching 1, the first epoch) stays visible instead of merging with the frame line.
        double Px(double x) => MarginLeft + Inset + (x - x0) / (x1 - x0) * (PlotW - 2 * Inset);
        double Py(double y) => MarginTop + PlotH - Inset - ((logY ? Math.Log10(y) : y) - t0) / (t1 - t0) * (PlotH - 2 * Inset);

        // Grid first so curves are painted over it.
        sb.Append("""<g class="grid" stroke="#e6e6e6" stroke-width="1">""").Append('\n');
        if (logY)
            foreach (var m in LogMinorTicks(yTicks[0], yTicks[^1]))
                sb.Append(CultureInfo.InvariantCulture, $"""<line x1="{F(MarginLeft)}" x2="{F(MarginLeft + PlotW)}" y1="{F(Py(m))}" y2="{F(Py(m))}" stroke="#f2f2f2"/>""").Append('\n');
        foreach (var t in yTicks)
            sb.Append(CultureInfo.InvariantCulture, $"""<line x1="{F(MarginLeft)}" x2="{F(MarginLeft + PlotW)}" y1="{F(Py(t))}" y2="{F(Py(t))}"/>""").Append('\n');
        foreach (var t in xTicks)
            sb.Append(CultureInfo.InvariantCulture, $"""<line x1="{F(Px(t))}" x2="{F(Px(t))}" y1="{F(MarginTop)}" y2="{F(MarginTop + PlotH)}"/>""").Append('\n');
        sb.Append("</g>\n");

        sb.Append(CultureInfo.InvariantCulture, $"""<rect x="{MarginLeft}" y="{MarginTop}" width="{PlotW}" height="{PlotH}" fill="none" stroke="#666666"/>""").Append('\n');

        sb.Append("""<g class="ticks" font-size="11" fill="#333333">""").Append('\n');
        foreach (var t in yTicks)
            sb.Append(CultureInfo.InvariantCulture, $"""<text class="tick-y" data-value="{R(t)}" x="{F(MarginLeft - 6)}" y="{F(Py(t))}" dy="0.35em" text-anchor="end">{FormatTick(t)}</text>""").Append('\n');
        foreach (var t in xTicks)
            sb.Append(CultureInfo.InvariantCulture, $"""<text class="tick-x" data-value="{R(t)}" x="{F(Px(t))}" y="{F(MarginTop + PlotH + 16)}" text-anchor="middle">{FormatTick(t)}</text>""").Append('\n');
        sb.Append("</g>\n");
        DrawAxisLabels(sb, xLabel, yLabel);

        for (int si = 0; si < series.Count; si++)
        {
            var s = series[si];
            string color = Markup.Escape(s.Color ?? Palette[si % Palette.Count]);
            string name = Markup.Escape(s.Name);
            string dash = s.Dashed ? " stroke-dasharray=\"7 4\"" : "";
            int usable = 0;
            for (int i = 0; i < s.X.Count; i++) if (Usable(s.X[i], s.Y[i])) usable++;

            sb.Append(CultureInfo.InvariantCulture, $"""<g class="series" data-name="{name}"><title>{name}</title>""").Append('\n');
            if (s.Lower != null)
            {
                // The band: upper edge left to right, then the lower edge back, over the points where both are drawable.
                var idx = Enumerable.Range(0, s.X.Count).Where(i => Usable(s.X[i], s.Y[i]) && Usable(s.X[i], s.Lower[i]) && Usable(s.X[i], s.Upper![i])).ToList();
                if (idx.Count > 1)
                {
                    var poly = string.Join(" ", idx.Select(i => F(Px(s.X[i])) + "," + F(Py(s.Upper![i]))).Concat(idx.AsEnumerable().Reverse().Select(i => F(Px(s.X[i])) + "," + F(Py(s.Lower[i])))));
                    sb.Append(CultureInfo.InvariantCulture, $"""<polygon class="band" data-band="{name}" data-lower="{string.Join(' ', idx.Select(i => R(s.Lower[i])))}" data-upper="{string.Join(' ', idx.Select(i => R(s.Upper![i])))}" points="{poly}" fill="{color}" fill-opacity="0.15" stroke="none"/>""").Append('\n');
                }
            }
            int start = 0;
            while (start < s.X.Count)
            {
                while (start < s.X.Count && !Usable(s.X[start], s.Y[start])) start++;
                int end = start;
                while (end < s.X.Count && Usable(s.X[end], s.Y[end])) end++;
                if (end > start)
                {
                    var pts = new StringBuilder();
                    var dx = new StringBuilder();
                    var dy = new StringBuilder();
                    for (int i = start; i < end; i++)
                    {
                        if (i > start) { pts.Append(' '); dx.Append(' '); dy.Append(' '); }
                        pts.Append(F(Px(s.X[i]))).Append(',').Append(F(Py(s.Y[i])));
                        dx.Append(R(s.X[i]));
                        dy.Append(R(s.Y[i]));
                    }
                    if (!s.Markers)
                        sb.Append(CultureInfo.InvariantCulture,
                            $"""<polyline data-series="{name}" data-x="{dx}" data-y="{dy}" points="{pts}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"{dash}/>""").Append('\n');
                    else
                        sb.Append(CultureInfo.InvariantCulture, $"""<g class="markers" data-series="{name}" data-x="{dx}" data-y="{dy}" fill-opacity="0.55">""").Append('\n');
                    // A one-point segment draws nothing as a polyline, and with few points markers show where the data actually is.
                    if (s.Markers || end - start == 1 || usable <= MarkerMaxPoints)
                        for (int i = start; i < end; i++)
                            sb.Append(CultureInfo.InvariantCulture, $"""<circle cx="{F(Px(s.X[i]))}" cy="{F(Py(s.Y[i]))}" r="2.6" fill="{color}"/>""").Append('\n');
                    if (s.Markers) sb.Append("</g>\n");
                }
                start = end;
            }
            sb.Append("</g>\n");
        }

        // A vertical marker, e.g. the epoch whose weights early stopping kept.
        if (markX is double mx && double.IsFinite(mx) && mx >= x0 && mx <= x1)
        {
            string label = Markup.Escape(markLabel ?? "");
            sb.Append(CultureInfo.InvariantCulture, $"""<g class="mark" data-x="{R(mx)}"><line x1="{F(Px(mx))}" x2="{F(Px(mx))}" y1="{F(MarginTop)}" y2="{F(MarginTop + PlotH)}" stroke="#444444" stroke-width="1.5" stroke-dasharray="3 3"/>""")
              .Append(CultureInfo.InvariantCulture, $"""<text x="{F(Px(mx) + 4)}" y="{F(MarginTop + 14)}" font-size="11" fill="#444444">{label}</text></g>""").Append('\n');
        }
        DrawLegend(sb, series);
        return sb.Append("</svg>\n").ToString();
    }

    /// <summary>
    /// "Nice" axis ticks: evenly spaced multiples of 1, 2 or 5 × 10^k whose first tick is ≤ <paramref name="min"/>
    /// and last tick ≥ <paramref name="max"/>, so the axis spans the data with round labels.
    /// </summary>
    /// <param name="min">Smallest data value (finite).</param>
    /// <param name="max">Largest data value (finite).</param>
    /// <param name="target">Roughly how many ticks are wanted; the result has about this many (a couple more at most).</param>
    /// <param name="integerStep">Forces the step to be a whole number, for integer data such as epochs.</param>
    /// <returns>Ascending tick values, at least two.</returns>
    public static IReadOnlyList<double> NiceTicks(double min, double max, int target = 6, bool integerStep = false)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new ArgumentException("tick range must be finite");
        if (min > max) (min, max) = (max, min);
        if (min == max)
        {
            // A flat line still needs an axis; pad it so the line sits in the middle.
            double pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            min -= pad; max += pad;
        }
        double raw = (max / Math.Max(1, target - 1)) - (min / Math.Max(1, target - 1)); // divided first so huge ranges cannot overflow
        int e = (int)Math.Floor(Math.Log10(raw));
        double f = raw / Pow10(e);
        // Pick the 1-2-5 step nearest (geometrically) to the raw step, so the tick count stays close to the target.
        int m = f < 1.4142 ? 1 : f < 3.1623 ? 2 : f < 7.0711 ? 5 : 10;
        if (m == 10) { m = 1; e++; }
        if (integerStep && e < 0) { m = 1; e = 0; }

        // Multiplying an integer by an exact power of ten keeps ticks like 0.3 exactly the double nearest 0.3,
        // so labels print short and tests can compare them to decimal literals.
        double Value(long k) => e >= 0 ? k * m * Pow10(e) : k * m / Pow10(-e);
        double step = Value(1);
        long lo = (long)Math.Floor(min / step), hi = (long)Math.Ceiling(max / step);
        while (Value(lo) > min) lo--;
        while (Value(lo + 1) <= min) lo++;
        while (Value(hi) < max) hi++;
        while (Value(hi - 1) >= max) hi--;
        if (hi - lo > 100 || hi <= lo) return [min, max]; // only reachable at the limits of double precision
        var ticks = new double[hi - lo + 1];
        for (long k = lo; k <= hi; k++) ticks[k - lo] = Value(k);
        return ticks;
    }

    /// <summary>
    /// Ticks for a logarithmic axis: powers of ten spanning [<paramref name="min"/>, <paramref name="max"/>], thinned to
    /// every n-th decade for very wide ranges, and with 2× and 5× ticks added when the range is under two decades.
    /// </summary>
    /// <param name="min">Smallest data value (finite, &gt; 0).</param>
    /// <param name="max">Largest data value (finite, &gt; 0).</param>
    /// <returns>Ascending tick values; the first and last are powers of ten bracketing the data.</returns>
    public static IReadOnlyList<double> LogTicks(double min, double max)
    {
        if (!(min > 0) || !(max > 0) || !double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException("log ticks need a finite positive range");
        if (min > max) (min, max) = (max, min);
        int lo = (int)Math.Floor(Math.Log10(min)), hi = (int)Math.Ceiling(Math.Log10(max));
        while (Pow10(lo) > min) lo--;
        while (Pow10(hi) < max) hi++;
        if (hi == lo) hi++;
        int span = hi - lo;
        int every = span > 8 ? (span + 5) / 6 : 1;
        if (every > 1)
        {
            lo = (int)Math.Floor(lo / (double)every) * every;
            hi = (int)Math.Ceiling(hi / (double)every) * every;
        }
        var ticks = new List<double>();
        for (int k = lo; k <= hi; k += every)
        {
            ticks.Add(Pow10(k));
            if (span <= 2 && k < hi)
            {
                ticks.Add(k >= 0 ? 2 * Pow10(k) : 2 / Pow10(-k));
                ticks.Add(k >= 0 ? 5 * Pow10(k) : 5 / Pow10(-k));
            }
        }
        return ticks;
    }

    /// <summary>Formats a tick value compactly: shortest round-trip decimal, or mantissa/exponent like <c>1e-5</c> for extreme magnitudes.</summary>
    /// <param name="v">The tick value.</param>
    /// <returns>The label text.</returns>
    public static string FormatTick(double v)
    {
        if (v == 0) return "0"; // also turns -0 into "0"
        double a = Math.Abs(v);
        return a >= 1e6 || a < 1e-4
            ? v.ToString("0.###e0", CultureInfo.InvariantCulture)
            : v.ToString("R", CultureInfo.InvariantCulture);
    }

    private static IEnumerable<double> LogMinorTicks(double lo, double hi)
    {
        int a = (int)Math.Round(Math.Log10(lo)), b = (int)Math.Round(Math.Log10(hi));
        if (b - a > 6) yield break; // minor lines would merge into a grey band
        for (int k = a; k < b; k++)
            for (int j = 2; j <= 9; j++)
                yield return k >= 0 ? j * Pow10(k) : j / Pow10(-k);
    }

    private static void OpenSvg(StringBuilder sb, string title)
    {
        string t = Markup.Escape(title);
        sb.Append(CultureInfo.InvariantCulture,
            $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" role="img" aria-label="{t}" font-family="{Font}">""").Append('\n');
        sb.Append("<title>").Append(t).Append("</title>\n");
        sb.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="#ffffff"/>""").Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"""<text class="chart-title" x="{F(MarginLeft + PlotW / 2)}" y="26" text-anchor="middle" font-size="15" font-weight="bold" fill="#1d2430">{t}</text>""").Append('\n');
    }

    private static void DrawAxisLabels(StringBuilder sb, string xLabel, string yLabel)
    {
        double cx = MarginLeft + PlotW / 2, cy = MarginTop + PlotH / 2;
        sb.Append(CultureInfo.InvariantCulture, $"""<text class="x-label" x="{F(cx)}" y="{Height - 14}" text-anchor="middle" font-size="12" fill="#1d2430">{Markup.Escape(xLabel)}</text>""").Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"""<text class="y-label" x="{F(16)}" y="{F(cy)}" text-anchor="middle" font-size="12" fill="#1d2430" transform="rotate(-90 16 {F(cy)})">{Markup.Escape(yLabel)}</text>""").Append('\n');
    }

    private static void DrawLegend(StringBuilder sb, IReadOnlyList<Series> series)
    {
        if (series.Count == 0) return;
        double x = Width - MarginRight + 16, y = MarginTop + 10;
        sb.Append("""<g class="legend" font-size="12" fill="#1d2430">""").Append('\n');
        for (int i = 0; i < series.Count; i++, y += 20)
        {
            var s = series[i];
            string color = Markup.Escape(s.Color ?? Palette[i % Palette.Count]);
            string dash = s.Dashed ? " stroke-dasharray=\"7 4\"" : "";
            // Long names would run off the canvas; the full name stays available as a tooltip.
            string shown = s.Name.Length > LegendMaxChars ? s.Name[..(LegendMaxChars - 1)] + "…" : s.Name;
            sb.Append(CultureInfo.InvariantCulture, $"""<g class="legend-item"><title>{Markup.Escape(s.Name)}</title>""");
            sb.Append(CultureInfo.InvariantCulture, $"""<line x1="{F(x)}" x2="{F(x + 24)}" y1="{F(y)}" y2="{F(y)}" stroke="{color}" stroke-width="2.5"{dash}/>""");
            sb.Append(CultureInfo.InvariantCulture, $"""<text x="{F(x + 30)}" y="{F(y)}" dy="0.35em">{Markup.Escape(shown)}</text></g>""").Append('\n');
        }
        sb.Append("</g>\n");
    }

    private static double Pow10(int k) => double.Parse("1e" + k.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Text helpers shared by the SVG and HTML writers.</summary>
internal static class Markup
{
    /// <summary>
    /// Escapes text for XML/HTML content and attribute values, and replaces characters XML cannot carry at all
    /// (control characters, lone surrogates) so a stray byte in a run name cannot make the whole document unparsable.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                case '\t' or '\n' or '\r': sb.Append(c); break;
                default:
                    if (c < 0x20 || c == '\uFFFE' || c == '\uFFFF') sb.Append('\uFFFD');
                    else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[i + 1]); i++; }
                    else if (char.IsSurrogate(c)) sb.Append('\uFFFD');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
