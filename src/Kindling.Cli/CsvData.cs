using System.Globalization;
using Kindling.Data;

namespace Kindling.Cli;

/// <summary>CSV files for the CLI: picks the target column(s) and the target kind, and turns data errors into user errors.</summary>
public static class CsvData
{
    private static readonly string[] DefaultTargets = ["target", "label", "class", "y"];

    /// <summary>The CSV options behind --categorical and --missing.</summary>
    public static CsvOptions Options(TrainConfig c) => new()
    {
        CategoricalColumns = c.Categorical,
        MissingValues = c.Missing.ToLowerInvariant() switch
        {
            "error" => MissingValueMode.Error,
            "mean" => MissingValueMode.Mean,
            "zero" => MissingValueMode.Zero,
            "drop" => MissingValueMode.Drop,
            var m => throw new UserError($"--missing '{m}': use error, mean, zero or drop."),
        },
    };

    private static CsvTable Open(string path, CsvOptions options)
    {
        try { return CsvTable.Load(path, options); }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }

    /// <summary>The library's messages name its options; on the command line the same fixes are flags.</summary>
    private static string CliHint(string message) =>
        message.Replace("list '", "pass --categorical '").Replace(" in CsvOptions.CategoricalColumns", "")
               .Replace("CsvOptions.MissingValues", "--missing");

    /// <summary>One-hot encoding wider than this for a single column is refused: it is almost always an identifier or free text.</summary>
    public const int MaxCategories = 1000;

    public static LabeledData Load(string path, string[] targets, string? taskHint, CsvOptions options, string[]? drop = null)
    {
        drop ??= [];
        var t = Open(path, options);
        if (t.RowCount == 0) throw new UserError($"{path}: the file has a header but no data rows.");
        if (targets.Length == 0)
        {
            var found = t.ColumnNames.FirstOrDefault(c => DefaultTargets.Contains(c.ToLowerInvariant()));
            targets = found != null ? [found] : throw new UserError($"{path}: say which column to predict with --target (columns: {string.Join(", ", t.ColumnNames)}).");
        }
        foreach (var c in targets)
            if (!t.ColumnNames.Contains(c)) throw new UserError($"{path}: unknown --target column '{c}'; the columns are: {string.Join(", ", t.ColumnNames)}.");
        CheckDrop(t, path, drop, targets);
        var features = t.ColumnNames.Where(c => !targets.Contains(c) && !drop.Contains(c)).ToArray();
        if (features.Length == 0) throw new UserError($"{path}: no feature columns left besides the target.");
        try
        {
            CapCategories(t, path, features);
            var kind = Kind(t, targets, taskHint);
            return t.ToData(targets, kind, features);
        }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }

    private static void CheckDrop(CsvTable t, string path, string[] drop, string[] targets)
    {
        foreach (var d in drop)
        {
            if (!t.ColumnNames.Contains(d)) throw new UserError($"{path}: --drop names the unknown column '{d}'; the columns are: {string.Join(", ", t.ColumnNames)}.");
            if (targets.Contains(d)) throw new UserError($"{path}: --drop '{d}' is the target column.");
        }
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

    /// <summary>Integer-like targets with few distinct values are labels; other numbers are regression values.</summary>
    private static TargetKind Kind(CsvTable t, string[] targets, string? hint)
    {
        if (targets.Length > 1 || hint is "regression" or "multilabel") return TargetKind.Regression;
        if (hint is "classification" or "binary") return TargetKind.Classification;
        var col = targets[0];
        if (!t.IsNumeric(col)) return TargetKind.Classification;
        // The table's own notion of missing (empty, NA, NaN, nan, ...), so the task never depends on how a gap is spelled;
        // words, Infinity and float32-overflowing numbers in a numeric target are data errors naming their row.
        var values = t.NumericValues(col).Where(v => !double.IsNaN(v)).ToList();
        bool integral = values.All(v => v == Math.Floor(v));
        int distinct = values.Distinct().Count();
        return integral && distinct <= Math.Max(2, Math.Min(50, values.Count / 5)) ? TargetKind.Classification : TargetKind.Regression;
    }

    /// <summary>The feature columns of a file for prediction (target columns, if present, are left out).</summary>
    public static (Tensor Features, string[] Names) LoadFeatures(string path, string[] trainFeatures, string[] targets, CsvOptions options, string[]? drop = null)
    {
        var t = Open(path, options);
        if (t.RowCount == 0) throw new UserError($"{path}: the file has a header but no data rows.");
        drop ??= [];
        var cols = t.ColumnNames.Where(c => !targets.Contains(c) && !drop.Contains(c)).ToArray();
        try { CapCategories(t, path, cols); return (t.Features(cols), t.FeatureNames(cols)); }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }
}
