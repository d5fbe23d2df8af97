using System.Globalization;
using System.Text;

namespace Kindling.Report;

/// <summary>A chart to show in the report.</summary>
/// <param name="Svg">SVG markup inlined verbatim, so it must be trusted (e.g. from <see cref="SvgPlot.LineChart"/>); an XML declaration is stripped.</param>
/// <param name="Caption">Text under the chart.</param>
public sealed record ReportChart(string Svg, string Caption);

/// <summary>One row of the final-metrics table; a column is shown only if some row has a value for it.</summary>
/// <param name="Name">Metric name, e.g. "loss" or "accuracy".</param>
/// <param name="Train">Value on the training set.</param>
/// <param name="Validation">Value on the validation set.</param>
/// <param name="Test">Value on the test set.</param>
public sealed record MetricRow(string Name, double? Train = null, double? Validation = null, double? Test = null);

/// <summary>A table of values with a title, e.g. per-class precision and recall or a model summary.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows, string? Note = null);

/// <summary>A confusion matrix: <c>Counts[t, p]</c> is how many samples of true class t were predicted as class p.</summary>
/// <param name="Counts">Square matrix of counts, one row and column per class.</param>
/// <param name="ClassNames">Class names, in the order of the matrix rows/columns.</param>
public sealed record ConfusionMatrix(int[,] Counts, IReadOnlyList<string> ClassNames);

/// <summary>One run of <c>kindling compare</c>: the same task trained with a different loss.</summary>
/// <param name="Loss">Loss function name.</param>
/// <param name="FinalTrainLoss">Training loss after the last epoch.</param>
/// <param name="FinalValidationLoss">Validation loss after the last epoch.</param>
/// <param name="Metric">The comparison metric (named by <see cref="ReportModel.ComparisonMetricName"/>); losses of different functions are not comparable, this is.</param>
/// <param name="Time">Wall-clock training time.</param>
public sealed record ComparisonRow(string Loss, double? FinalTrainLoss, double? FinalValidationLoss, double? Metric, TimeSpan? Time);

/// <summary>
/// The loss comparison over several seeds: a row per loss (first cell the loss name, the others preformatted figures
/// such as "96.9 ± 0.4%"), and the index of the row that won a significance test, or null when no loss did — the "best"
/// badge goes on that row only, never on the larger of two means that chance alone could have ordered.
/// </summary>
public sealed record SeedComparison(string Title, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows, int? Winner, string? Note = null);

/// <summary>Everything an HTML run report shows; empty parts are left out of the page.</summary>
public sealed record ReportModel
{
    /// <summary>Page heading, e.g. "kindling report".</summary>
    public required string Title { get; init; }

    /// <summary>Run name, shown in the subtitle.</summary>
    public string? RunName { get; init; }

    /// <summary>When the run happened, shown in the subtitle.</summary>
    public DateTimeOffset? Date { get; init; }

    /// <summary>Key–value pairs of the Summary table (task, loss and why, model, optimizer, epochs, samples, time…), in display order.</summary>
    public IReadOnlyList<(string Key, string Value)> Summary { get; init; } = [];

    /// <summary>Warnings to highlight, e.g. class imbalance or a diverging loss.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Charts, in display order.</summary>
    public IReadOnlyList<ReportChart> Charts { get; init; } = [];

    /// <summary>Rows of the final-metrics table.</summary>
    public IReadOnlyList<MetricRow> FinalMetrics { get; init; } = [];

    /// <summary>Further tables (per-class metrics, model summary), shown after the final metrics.</summary>
    public IReadOnlyList<ReportTable> Tables { get; init; } = [];

    /// <summary>Confusion matrix for classification runs; null to omit.</summary>
    public ConfusionMatrix? Confusion { get; init; }

    /// <summary>Rows of the loss-comparison table (<c>kindling compare</c>); empty to omit.</summary>
    public IReadOnlyList<ComparisonRow> Comparison { get; init; } = [];

    /// <summary>Header of the comparison metric column.</summary>
    public string ComparisonMetricName { get; init; } = "metric";

    /// <summary>The comparison over seeds with intervals (<c>kindling compare</c>); null to omit.</summary>
    public SeedComparison? SeedComparison { get; init; }

    /// <summary>Whether a larger comparison metric is better (true), smaller is better (false), or the best row should not be marked (null).</summary>
    public bool? ComparisonHigherIsBetter { get; init; }
}

/// <summary>Builds a single self-contained HTML run report: inline CSS and SVG, no scripts, no external resources.</summary>
public static class HtmlReport
{
    // Kept XML-well-formed (self-closed void elements, numeric entities only) so the report can be checked with an XML parser.
    private const string Css = """
        *{box-sizing:border-box}
        body{margin:0;background:#eef0f3;color:#1d2430;font:14px/1.45 "DejaVu Sans",Helvetica,Arial,sans-serif}
        main{max-width:1000px;margin:0 auto;padding:28px 36px 36px;background:#ffffff;min-height:100vh}
        h1{font-size:25px;margin:0 0 2px}
        .subtitle{color:#5b6472;margin:0 0 8px}
        h2{font-size:17px;margin:30px 0 12px;padding-bottom:5px;border-bottom:2px solid #e3e6ea}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}
        th,td{padding:5px 12px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
        thead th{background:#f5f6f8;font-weight:600}
        td.num,th.num{text-align:right;white-space:nowrap}
        table.kv th{color:#5b6472;font-weight:600;white-space:nowrap;padding-right:28px}
        ul.warnings{list-style:none;margin:0;padding:0}
        ul.warnings li{background:#fff4d6;border-left:5px solid #e69f00;padding:8px 14px;margin:0 0 6px;border-radius:3px}
        ul.warnings li::before{content:"\26A0\00A0\00A0";color:#b36b00;font-weight:700}
        figure{margin:0 0 22px}
        figure svg{display:block;max-width:100%;height:auto;border:1px solid #e3e6ea;border-radius:4px}
        figcaption{color:#5b6472;font-size:13px;margin-top:5px}
        .scroll{overflow-x:auto}
        table.cm td{text-align:right;min-width:48px}
        table.cm td.diag{box-shadow:inset 0 0 0 2px #1d2430}
        table.cm th.corner{color:#5b6472;font-weight:400;font-size:12px}
        table.cm caption{caption-side:bottom;text-align:left;color:#5b6472;font-size:13px;padding-top:6px}
        table.cm.compact td,table.cm.compact th{min-width:0;padding:3px 6px;font-size:12px}
        tr.best td{font-weight:700;background:#e8f4ec}
        .badge{display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;background:#009e73;color:#ffffff;font-size:11px;font-weight:600}
        p.note{color:#5b6472;font-size:13px;margin:8px 0 0}
        footer{margin-top:32px;color:#8a929e;font-size:12px}
        """;

    /// <summary>Renders <paramref name="model"/> as one HTML document; all text is escaped.</summary>
    /// <param name="model">The report content.</param>
    /// <returns>The HTML document.</returns>
    /// <exception cref="ArgumentException">The confusion matrix is not square or does not match its class names.</exception>
    public static string Build(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var sb = new StringBuilder(64 * 1024);
        string title = Markup.Escape(model.Title);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
          .Append("<title>").Append(title);
        if (!string.IsNullOrEmpty(model.RunName)) sb.Append(" — ").Append(Markup.Escape(model.RunName));
        sb.Append("</title>\n<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n<main>\n");

        sb.Append("<header>\n<h1>").Append(title).Append("</h1>\n");
        var sub = new List<string>();
        if (!string.IsNullOrEmpty(model.RunName)) sub.Add("run " + model.RunName);
        if (model.Date is { } d) sub.Add(d.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture));
        if (sub.Count > 0) sb.Append("<p class=\"subtitle\">").Append(Markup.Escape(string.Join(" · ", sub))).Append("</p>\n");
        sb.Append("</header>\n");

        if (model.Summary.Count > 0)
        {
            Section(sb, "summary", "Summary");
            sb.Append("<table class=\"kv\">\n<tbody>\n");
            foreach (var (k, v) in model.Summary)
                sb.Append("<tr><th scope=\"row\">").Append(Markup.Escape(k)).Append("</th><td>").Append(Markup.Escape(v)).Append("</td></tr>\n");
            sb.Append("</tbody>\n</table>\n</section>\n");
        }

        if (model.Warnings.Count > 0)
        {
            Section(sb, "warnings", "Warnings");
            sb.Append("<ul class=\"warnings\">\n");
            foreach (var w in model.Warnings) sb.Append("<li>").Append(Markup.Escape(w)).Append("</li>\n");
            sb.Append("</ul>\n</section>\n");
        }

        if (model.Charts.Count > 0)
        {
            Section(sb, "charts", "Charts");
            foreach (var c in model.Charts)
                sb.Append("<figure>\n").Append(StripXmlDeclaration(c.Svg)).Append("\n<figcaption>")
                  .Append(Markup.Escape(c.Caption)).Append("</figcaption>\n</figure>\n");
            sb.Append("</section>\n");
        }

        if (model.FinalMetrics.Count > 0) FinalMetrics(sb, model.FinalMetrics);
        if (model.SeedComparison is { } sc) SeedComparisonTable(sb, sc);
        foreach (var t in model.Tables) Table(sb, t);
        if (model.Confusion is { } cm) Confusion(sb, cm);
        if (model.Comparison.Count > 0) Comparison(sb, model);

        sb.Append("<footer>Generated by kindling.</footer>\n</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Formats a metric for display: 5 significant digits, exponent form for extreme magnitudes, and NaN/∞ spelled out.</summary>
    /// <param name="v">The value.</param>
    /// <returns>Display text.</returns>
    public static string FormatNumber(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsPositiveInfinity(v)) return "∞";
        if (double.IsNegativeInfinity(v)) return "−∞";
        if (v == 0) return "0";
        double a = Math.Abs(v);
        if (a >= 1e5 || a < 1e-4) return v.ToString("0.####e0", CultureInfo.InvariantCulture);
        int decimals = 4 - (int)Math.Floor(Math.Log10(a));
        return Math.Round(v, Math.Clamp(decimals, 0, 15)).ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>Formats a duration compactly, e.g. "850 ms", "12.3 s", "4 m 05 s", "2 h 03 m".</summary>
    /// <param name="t">The duration.</param>
    /// <returns>Display text.</returns>
    public static string FormatDuration(TimeSpan t)
    {
        var ci = CultureInfo.InvariantCulture;
        if (t < TimeSpan.Zero) return "−" + FormatDuration(t.Negate());
        if (t.TotalSeconds < 1) return ((int)Math.Round(t.TotalMilliseconds)).ToString(ci) + " ms";
        if (t.TotalSeconds < 60) return t.TotalSeconds.ToString("0.0", ci) + " s";
        if (t.TotalHours < 1) return ((int)t.TotalMinutes).ToString(ci) + " m " + t.Seconds.ToString("00", ci) + " s";
        return ((int)t.TotalHours).ToString(ci) + " h " + t.Minutes.ToString("00", ci) + " m";
    }

    private static void Section(StringBuilder sb, string id, string heading) =>
        sb.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(Markup.Escape(heading)).Append("</h2>\n");

    private static string StripXmlDeclaration(string svg)
    {
        ArgumentNullException.ThrowIfNull(svg);
        // An XML declaration in the middle of an HTML document is invalid, and SVG files written to disk may carry one.
        var s = svg.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (s.StartsWith("<?xml", StringComparison.Ordinal))
        {
            int end = s.IndexOf("?>", StringComparison.Ordinal);
            if (end >= 0) s = s[(end + 2)..].TrimStart();
        }
        return s.TrimEnd();
    }

    private static string Num(double? v) => v is { } x ? Markup.Escape(FormatNumber(x)) : "";

    private static void FinalMetrics(StringBuilder sb, IReadOnlyList<MetricRow> rows)
    {
        bool train = rows.Any(r => r.Train.HasValue), val = rows.Any(r => r.Validation.HasValue), test = rows.Any(r => r.Test.HasValue);
        Section(sb, "metrics", "Final metrics");
        sb.Append("<table class=\"metrics\">\n<thead><tr><th>Metric</th>");
        if (train) sb.Append("<th class=\"num\">Train</th>");
        if (val) sb.Append("<th class=\"num\">Validation</th>");
        if (test) sb.Append("<th class=\"num\">Test</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var r in rows)
        {
            sb.Append("<tr><td>").Append(Markup.Escape(r.Name)).Append("</td>");
            if (train) sb.Append("<td class=\"num\">").Append(Num(r.Train)).Append("</td>");
            if (val) sb.Append("<td class=\"num\">").Append(Num(r.Validation)).Append("</td>");
            if (test) sb.Append("<td class=\"num\">").Append(Num(r.Test)).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void Table(StringBuilder sb, ReportTable t)
    {
        Section(sb, "table", t.Title);
        sb.Append("<div class=\"scroll\">\n<table class=\"metrics\">\n<thead><tr>");
        for (int j = 0; j < t.Header.Count; j++) sb.Append(j == 0 ? "<th>" : "<th class=\"num\">").Append(Markup.Escape(t.Header[j])).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var r in t.Rows)
        {
            sb.Append("<tr>");
            for (int j = 0; j < r.Count; j++) sb.Append(j == 0 ? "<td>" : "<td class=\"num\">").Append(Markup.Escape(r[j])).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</div>\n");
        if (t.Note != null) sb.Append("<p class=\"note\">").Append(Markup.Escape(t.Note)).Append("</p>\n");
        sb.Append("</section>\n");
    }

    private static void Confusion(StringBuilder sb, ConfusionMatrix cm)
    {
        ArgumentNullException.ThrowIfNull(cm.Counts);
        ArgumentNullException.ThrowIfNull(cm.ClassNames);
        int n = cm.ClassNames.Count;
        if (cm.Counts.GetLength(0) != n || cm.Counts.GetLength(1) != n)
            throw new ArgumentException($"confusion matrix is {cm.Counts.GetLength(0)}×{cm.Counts.GetLength(1)} but there are {n} class names");
        int max = 0;
        foreach (var c in cm.Counts) max = Math.Max(max, c);

        Section(sb, "confusion", "Confusion matrix");
        sb.Append("<div class=\"scroll\">\n<table class=\"cm").Append(n > 6 ? " compact" : "").Append("\">\n<caption>Rows: true class · columns: predicted class · diagonal outlined = correct.</caption>\n");
        // Many classes: columns are headed by class number (rows carry "number name"), so a 10-class matrix of long
        // names fits a 1280-px window as a compact heat map instead of scrolling sideways.
        bool compact = n > 6;
        sb.Append(compact ? "<thead><tr><th class=\"corner\">true ╲ predicted</th>" : "<thead><tr><th class=\"corner\">true ╲ predicted</th>");
        for (int j = 0; j < n; j++)
            sb.Append("<th class=\"num\" scope=\"col\" title=\"").Append(Markup.Escape(cm.ClassNames[j])).Append("\">")
              .Append(compact ? j.ToString(CultureInfo.InvariantCulture) : Markup.Escape(cm.ClassNames[j])).Append("</th>");
        sb.Append("<th class=\"num\" scope=\"col\">total</th><th class=\"num\" scope=\"col\">recall</th></tr></thead>\n<tbody>\n");
        for (int i = 0; i < n; i++)
        {
            long total = 0;
            for (int j = 0; j < n; j++) total += cm.Counts[i, j];
            sb.Append("<tr><th scope=\"row\">").Append(compact ? i.ToString(CultureInfo.InvariantCulture) + " " : "").Append(Markup.Escape(cm.ClassNames[i])).Append("</th>");
            for (int j = 0; j < n; j++)
            {
                int c = cm.Counts[i, j];
                // Shade relative to the largest cell so the pattern reads at a glance whatever the dataset size.
                double a = max > 0 ? Math.Max(0, c) / (double)max : 0;
                string fg = a > 0.55 ? "#ffffff" : "#1d2430";
                sb.Append(CultureInfo.InvariantCulture,
                    $"<td class=\"num{(i == j ? " diag" : "")}\" style=\"background-color:rgba(0,114,178,{a * 0.9:0.###});color:{fg}\">{c}</td>");
            }
            string recall = total > 0 ? (cm.Counts[i, i] / (double)total).ToString("0.000", CultureInfo.InvariantCulture) : "–";
            sb.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{total}</td><td class=\"num\">{recall}</td></tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</div>\n</section>\n");
    }

    private static void SeedComparisonTable(StringBuilder sb, SeedComparison t)
    {
        if (t.Winner is { } w && (w < 0 || w >= t.Rows.Count)) throw new ArgumentException($"seed comparison: winner row {w} of {t.Rows.Count}");
        Section(sb, "comparison", t.Title);
        sb.Append("<div class=\"scroll\">\n<table class=\"comparison\">\n<thead><tr>");
        for (int j = 0; j < t.Header.Count; j++) sb.Append(j == 0 ? "<th>" : "<th class=\"num\">").Append(Markup.Escape(t.Header[j])).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        for (int i = 0; i < t.Rows.Count; i++)
        {
            var r = t.Rows[i];
            sb.Append(i == t.Winner ? "<tr class=\"best\">" : "<tr>");
            for (int j = 0; j < r.Count; j++)
            {
                sb.Append(j == 0 ? "<td>" : "<td class=\"num\">").Append(Markup.Escape(r[j]));
                if (j == 0 && i == t.Winner) sb.Append("<span class=\"badge\">best</span>");
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</div>\n");
        if (t.Note != null) sb.Append("<p class=\"note\">").Append(Markup.Escape(t.Note)).Append("</p>\n");
        sb.Append("</section>\n");
    }

    private static void Comparison(StringBuilder sb, ReportModel model)
    {
        var rows = model.Comparison;
        bool tl = rows.Any(r => r.FinalTrainLoss.HasValue), vl = rows.Any(r => r.FinalValidationLoss.HasValue);
        bool me = rows.Any(r => r.Metric.HasValue), ti = rows.Any(r => r.Time.HasValue);
        int best = -1;
        if (model.ComparisonHigherIsBetter is { } higher)
            for (int i = 0; i < rows.Count; i++)
                if (rows[i].Metric is { } m && double.IsFinite(m) &&
                    (best < 0 || (higher ? m > rows[best].Metric!.Value : m < rows[best].Metric!.Value)))
                    best = i;

        Section(sb, "comparison", "Loss comparison");
        sb.Append("<table class=\"comparison\">\n<thead><tr><th>Loss</th>");
        if (tl) sb.Append("<th class=\"num\">final train loss</th>");
        if (vl) sb.Append("<th class=\"num\">final validation loss</th>");
        if (me) sb.Append("<th class=\"num\">").Append(Markup.Escape(model.ComparisonMetricName)).Append("</th>");
        if (ti) sb.Append("<th class=\"num\">time</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            sb.Append(i == best ? "<tr class=\"best\">" : "<tr>").Append("<td>").Append(Markup.Escape(r.Loss));
            if (i == best) sb.Append("<span class=\"badge\">best</span>");
            sb.Append("</td>");
            if (tl) sb.Append("<td class=\"num\">").Append(Num(r.FinalTrainLoss)).Append("</td>");
            if (vl) sb.Append("<td class=\"num\">").Append(Num(r.FinalValidationLoss)).Append("</td>");
            if (me) sb.Append("<td class=\"num\">").Append(Num(r.Metric)).Append("</td>");
            if (ti) sb.Append("<td class=\"num\">").Append(r.Time is { } t ? Markup.Escape(FormatDuration(t)) : "").Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
        if (rows.Count > 1)
            sb.Append("<p class=\"note\">Final loss values of different loss functions are on different scales; compare runs by ")
              .Append(Markup.Escape(model.ComparisonMetricName)).Append(".</p>\n");
        sb.Append("</section>\n");
    }
}
