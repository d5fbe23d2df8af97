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

    public static LabeledData Load(string path, string[] targets, string? taskHint, CsvOptions options)
    {
        var t = Open(path, options);
        if (t.RowCount == 0) throw new UserError($"{path}: the file has a header but no data rows.");
        if (targets.Length == 0)
        {
            var found = t.ColumnNames.FirstOrDefault(c => DefaultTargets.Contains(c.ToLowerInvariant()));
            targets = found != null ? [found] : throw new UserError($"{path}: say which column to predict with --target (columns: {string.Join(", ", t.ColumnNames)}).");
        }
        foreach (var c in targets)
            if (!t.ColumnNames.Contains(c)) throw new UserError($"{path}: unknown --target column '{c}'; the columns are: {string.Join(", ", t.ColumnNames)}.");
        var features = t.ColumnNames.Where(c => !targets.Contains(c)).ToArray();
        if (features.Length == 0) throw new UserError($"{path}: no feature columns left besides the target.");
        var kind = Kind(t, targets, taskHint);
        try { return t.ToData(targets, kind, features); }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }

    /// <summary>Integer-like targets with few distinct values are labels; other numbers are regression values.</summary>
    private static TargetKind Kind(CsvTable t, string[] targets, string? hint)
    {
        if (targets.Length > 1 || hint is "regression" or "multilabel") return TargetKind.Regression;
        if (hint is "classification" or "binary") return TargetKind.Classification;
        var col = targets[0];
        if (!t.IsNumeric(col)) return TargetKind.Classification;
        var values = t.GetColumn(col).Where(s => s.Length > 0).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToList();
        bool integral = values.All(v => v == Math.Floor(v));
        int distinct = values.Distinct().Count();
        return integral && distinct <= Math.Max(2, Math.Min(50, values.Count / 5)) ? TargetKind.Classification : TargetKind.Regression;
    }

    /// <summary>The feature columns of a file for prediction (target columns, if present, are left out).</summary>
    public static (Tensor Features, string[] Names) LoadFeatures(string path, string[] trainFeatures, string[] targets, CsvOptions options)
    {
        var t = Open(path, options);
        if (t.RowCount == 0) throw new UserError($"{path}: the file has a header but no data rows.");
        var cols = t.ColumnNames.Where(c => !targets.Contains(c)).ToArray();
        try { return (t.Features(cols), t.FeatureNames(cols)); }
        catch (DataException e) { throw new UserError(CliHint(e.Message)); }
    }
}
