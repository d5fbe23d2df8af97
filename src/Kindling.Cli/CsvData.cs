using System.Globalization;
using Kindling.Data;

namespace Kindling.Cli;

/// <summary>CSV files for the CLI: picks the target and feature columns and the target kind, refuses columns that
/// cannot be features (dates, identifiers), and turns data errors into user errors in the command's own spelling.</summary>
public static class CsvData
{
    private static readonly string[] DefaultTargets = ["target", "label", "class", "y"];

    /// <summary>The CSV options behind --categorical, --missing, --delimiter, --skip-rows and --comment.</summary>
    /// <remarks>--missing mean and zero read missing cells as NaN: the fill values are fitted later on the training
    /// split only (<see cref="Preprocessing.FitFill"/>), never on rows that end up in the test split.</remarks>
    public static CsvOptions Options(TrainConfig c) => new()
    {
        CategoricalColumns = c.Categorical,
        MissingValues = c.Missing.ToLowerInvariant() switch
        {
            "error" => MissingValueMode.Error,
            "mean" or "zero" => MissingValueMode.Keep,
            "drop" => MissingValueMode.Drop,
            var m => throw new UserError($"--missing '{m}': use error, mean, zero or drop."),
        },
        Delimiter = c.Delimiter switch
        {
            null or "" or "auto" => null,
            "tab" or "\\t" or "\t" => '\t',
            "comma" => ',', "semicolon" => ';', "pipe" => '|',
            { Length: 1 } d when d[0] < 128 => d[0],
            var d => throw new UserError($"--delimiter '{d}': use one ASCII character, tab, or auto."),
        },
        CommentPrefix = c.Comment switch
        {
            null or "" => null,
            { Length: 1 } p when p[0] < 128 => p[0],
            var p => throw new UserError($"--comment '{p}': use one ASCII character (or an empty string for none)."),
        },
        SkipRows = c.SkipRows >= 0 ? c.SkipRows : throw new UserError($"--skip-rows must be 0 or more, got {c.SkipRows}."),
        SpreadsheetNumbers = !c.PlainNumbers,
    };

    private static CsvTable Open(string path, CsvOptions options)
    {
        try { return CsvTable.Load(path, options); }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }

    /// <summary>The library's messages name its options; on the command line the same fixes are flags.</summary>
    public static string CliHint(string message) =>
        message.Replace("list '", "pass --categorical '").Replace(" in CsvOptions.CategoricalColumns", "")
               .Replace("set CsvOptions.MissingValues = MissingValueMode.Drop", "pass --missing drop")
               .Replace("Set CsvOptions.MissingValues to Mean, Zero or Drop", "Pass --missing mean, zero or drop")
               .Replace("so MissingValueMode.Drop left", "so --missing drop left")
               .Replace("MissingValueMode.Mean", "--missing mean").Replace("MissingValueMode.Drop", "--missing drop")
               .Replace("CsvOptions.MissingValues", "--missing")
               .Replace("use TargetKind.Regression", "use --task regression").Replace("use TargetKind.Classification", "use --task classification");

    /// <summary>One-hot encoding wider than this for a single column is refused: it is almost always an identifier or free text.</summary>
    public const int MaxCategories = 1000;

    public static LabeledData Load(string path, string[] targets, string? taskHint, CsvOptions options) => LoadSource(path, targets, taskHint, options, null).Data;

    public static Source LoadSource(string path, string[] targets, string? taskHint, CsvOptions options, TrainConfig? c)
    {
        var source = LoadTable(path, targets, taskHint, options, c);
        // The table (its columns: as large as the features) is garbage once the tensors are built; collecting it now,
        // before the splits and the model allocate, keeps it from adding to the peak resident size of a large file.
        if (source.Data.Features.NumEl >= 1 << 22) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return source;
    }

    private static Source LoadTable(string path, string[] targets, string? taskHint, CsvOptions options, TrainConfig? c)
    {
        // The target's exact values decide the task and the class names; the features are float32 anyway.
        var t = Open(path, options with { ExactColumns = targets.Length > 0 ? targets : new HashSet<string>(DefaultTargets, StringComparer.OrdinalIgnoreCase) });
        if (t.RowCount == 0) throw new UserError($"{path}: the file has a header but no data rows.");
        if (targets.Length == 0)
        {
            var found = t.ColumnNames.FirstOrDefault(col => DefaultTargets.Contains(col.ToLowerInvariant()));
            targets = found != null ? [found] : throw new UserError($"{path}: say which column to predict with --target (columns: {string.Join(", ", t.ColumnNames)}).");
        }
        foreach (var col in targets)
            if (!t.ColumnNames.Contains(col)) throw new UserError($"{path}: unknown --target column '{col}'; the columns are: {string.Join(", ", t.ColumnNames)}.");
        var drop = c?.Drop ?? [];
        foreach (var col in drop)
        {
            if (!t.ColumnNames.Contains(col)) throw new UserError($"{path}: --drop names the unknown column '{col}'; the columns are: {string.Join(", ", t.ColumnNames)}.");
            if (targets.Contains(col)) throw new UserError($"{path}: --drop '{col}' is the target column.");
        }
        foreach (var col in c?.Features ?? [])
            if (!t.ColumnNames.Contains(col)) throw new UserError($"{path}: --features names the unknown column '{col}'; the columns are: {string.Join(", ", t.ColumnNames)}.");
        var features = (c?.Features is { Length: > 0 } chosen ? chosen : t.ColumnNames.ToArray())
            .Where(col => !targets.Contains(col) && !drop.Contains(col)).ToArray();
        if (features.Length == 0) throw new UserError($"{path}: no feature columns left besides the target{(drop.Length > 0 ? " and the --drop columns" : "")}.");
        LabeledData data;
        try
        {
            RefuseNonFeatures(t, features, path);
            CapCategories(t, path, features);
            var kind = Kind(t, targets, taskHint, options);
            data = t.ToData(targets, kind, features);
        }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
        string? note = data.Count < t.RowCount ? $"--missing drop: left out {t.RowCount - data.Count} of {t.RowCount} rows with a missing value" : null;
        var warnings = new List<string>();
        if (data.ClassNames != null) data = LabelSpelling.Check(data, path, c?.NormalizeLabels ?? false, warnings);
        return new Source(data, null, note, t.ColumnNames.ToArray(), warnings, SpreadsheetNotes(t, features.Concat(targets)));
    }

    /// <summary>The explanation line for each used column whose numbers were read the spreadsheet way.</summary>
    public static List<string> SpreadsheetNotes(CsvTable t, IEnumerable<string> used)
    {
        var set = used.ToHashSet();
        return t.SpreadsheetColumns.Where(s => set.Contains(s.Column))
            .Select(s => $"column '{s.Column}': read numbers written the spreadsheet way ({SpreadsheetNumber.Describe(s.Format)}; e.g. '{s.Example}' as {(SpreadsheetNumber.TryParse(s.Example, t.Separator, out var v, out _) ? v.ToString("G", CultureInfo.InvariantCulture) : "?")}); --plain-numbers reads such cells as text")
            .ToList();
    }

    private static void CapCategories(CsvTable t, string path, IEnumerable<string> features)
    {
        foreach (var f in features)
        {
            int k = t.Categories(f).Count;
            if (k > MaxCategories)
                throw new UserError($"{path}: column '{f}' has {k} distinct text values; one-hot encoding it would add {k} columns (limit {MaxCategories}). If it is an identifier or free text, leave it out with --drop {f}.");
        }
    }

    /// <summary>
    /// Columns that would be one-hot encoded into meaningless features: dates and times (every day becomes its own
    /// indicator, useless for new dates) and identifiers (a different value on every row, or a row counter).
    /// </summary>
    private static void RefuseNonFeatures(CsvTable t, string[] features, string path)
    {
        foreach (var col in features)
        {
            if (!t.IsNumeric(col))
            {
                var cells = t.GetColumn(col).Where(s => s.Length > 0).ToList();
                if (cells.Count == 0) continue;
                int dates = cells.Take(200).Count(LooksLikeDateTime);
                if (dates * 10 >= Math.Min(cells.Count, 200) * 9)
                    throw new UserError($"{path}: column '{col}' holds dates or times (e.g. '{cells[0]}'); one-hot encoding them would make one feature per value that means nothing for new rows. Leave it out with --drop {col} (or choose columns with --features), and add numeric columns derived from it (year, month, day of week) if they matter.");
                if (cells.Count >= 20 && cells.Distinct(StringComparer.Ordinal).Count() == cells.Count)
                    throw new UserError($"{path}: column '{col}' has a different value on every row ({cells.Count} distinct values: an identifier such as a name or id?); one-hot encoding it gives {cells.Count} features that cannot generalise. Leave it out with --drop {col} (or choose columns with --features).");
            }
            // Numeric columns are checked on their float32 values (no text is kept for them); the texts are read only for the message.
            else if (t.RowCount >= 20 && IsRowCounter(t.Float32Values(col)))
            {
                var cells = t.GetColumn(col);
                throw new UserError($"{path}: column '{col}' counts the rows ({cells[0]}, {cells[1]}, {cells[2]}, …) — an index column, not a feature (the model would learn the file order). Leave it out with --drop {col}.");
            }
        }
    }

    private static readonly string[] DateFormats =
        ["yyyy-MM-dd", "yyyy/MM/dd", "dd/MM/yyyy", "MM/dd/yyyy", "d/M/yyyy", "M/d/yyyy", "dd.MM.yyyy", "yyyyMMdd'T'HHmmss", "yyyy-MM", "HH:mm", "HH:mm:ss", "dd-MMM-yyyy", "d-MMM-yy", "MMM d, yyyy"];

    private static bool LooksLikeDateTime(string s) =>
        s.Length >= 5 && s.Any(char.IsDigit) && (
            DateTime.TryParseExact(s, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out _) ||
            DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out _));

    /// <summary>True when the values are 0, 1, 2, … or 1, 2, 3, … (a missing or non-numeric cell is NaN and breaks the run).</summary>
    private static bool IsRowCounter(IReadOnlyList<float> values)
    {
        float first = values[0];
        if (first is not (0 or 1)) return false;
        for (int i = 0; i < values.Count; i++)
            if (values[i] != first + i) return false;
        return true;
    }

    /// <summary>
    /// The integer-target rule: a numeric target whose present values are all whole numbers with at most
    /// max(2, min(50, N/5)) distinct values holds class labels — unless it looks like counts (non-negative, more than
    /// 10 distinct values, and the most common value at least 20 times as frequent as the rarest: the long right tail
    /// of visits, events or sales); otherwise it is a numeric target (regression). Text targets are labels. --task
    /// overrides the rule. Missing cells, however they are spelled, do not count.
    /// </summary>
    public static TargetKind Kind(CsvTable t, string[] targets, string? hint, CsvOptions options)
    {
        if (targets.Length > 1 || hint is "regression" or "multilabel") return TargetKind.Regression;
        if (hint is "classification" or "binary") return TargetKind.Classification;
        var col = targets[0];
        if (!t.IsNumeric(col)) return TargetKind.Classification;
        // The table's own notion of missing (empty, NA, NaN, nan, ...), so the task never depends on how a gap is spelled;
        // words, Infinity and float32-overflowing numbers in a numeric target are data errors naming their row.
        // One pass without copying the column: real values settle it at once; whole numbers are counted by value.
        var all = t.NumericValues(col);
        var freqByValue = new Dictionary<double, int>();
        int present = 0;
        bool integral = true;
        foreach (var v in all)
        {
            if (double.IsNaN(v)) continue;
            present++;
            if (!(double.IsFinite(v) && v == Math.Floor(v))) { integral = false; break; }
            freqByValue[v] = freqByValue.GetValueOrDefault(v) + 1;
        }
        if (present == 0) return TargetKind.Regression;
        if (!integral) return TargetKind.Regression;
        var freq = freqByValue.Values.ToList();
        int distinct = freq.Count;
        bool counts = freqByValue.Keys.All(v => v >= 0) && distinct > 10 && freq.Max() >= 20 * freq.Min();
        return !counts && distinct <= Math.Max(2, Math.Min(50, present / 5)) ? TargetKind.Classification : TargetKind.Regression;
    }

    /// <summary>True when a regression target holds non-negative whole numbers (counts: visits, events, sales).</summary>
    public static bool LooksLikeCounts(Tensor y) => y.Rank == 1 && y.DType != DType.Int64 && y.NumEl > 0 && y.ToArray().All(v => v >= 0 && v == MathF.Floor(v));

    /// <summary>The feature columns of a file for prediction (target columns, if present, are left out).</summary>
    public static (Tensor Features, string[] Names) LoadFeatures(string path, string[] trainFeatures, string[] targets, CsvOptions options, TrainConfig? c = null)
    {
        var t = Open(path, options);
        if (t.RowCount == 0) throw new UserError($"{path}: the file has a header but no data rows.");
        var drop = c?.Drop ?? [];
        var cols = t.ColumnNames.Where(col => !targets.Contains(col) && !drop.Contains(col) && (c?.Features is not { Length: > 0 } f || f.Contains(col))).ToArray();
        try { CapCategories(t, path, cols); return (t.Features(cols), t.FeatureNames(cols)); }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }

    /// <summary>
    /// The id to write beside each prediction: a column named id (any case) passed through, else the 1-based data row.
    /// With --missing drop the rows kept are not known here, so the row number is only used when no row was dropped.
    /// </summary>
    public static (string Name, string[]? Ids) IdColumn(string path, CsvOptions options, int rows)
    {
        var t = Open(path, options);
        var col = t.ColumnNames.FirstOrDefault(n => n.Equals("id", StringComparison.OrdinalIgnoreCase));
        if (t.RowCount != rows) return ("row", null);
        return col != null ? (col, t.GetColumn(col).ToArray()) : ("row", null);
    }
}
