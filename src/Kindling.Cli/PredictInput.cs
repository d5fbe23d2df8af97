using System.Globalization;
using Kindling.Data;
using Kindling.IO;

namespace Kindling.Cli;

/// <summary>
/// The rows predict scores, checked against what the model was trained on (see <see cref="FeatureCheck"/>), with the
/// identity of every row of the file: its id (a column named id, any case) or its data-row number (1 = the first row
/// under the header). Under --missing drop the rows left out keep their place with an empty prediction.
/// </summary>
/// <param name="Features">The aligned features of the kept rows (N_kept, F).</param>
/// <param name="Ids">The id of every data row of the file, kept or not.</param>
/// <param name="Kept">The 0-based data rows that were scored, ascending.</param>
public sealed record PredictInput(Tensor Features, float Divisor, string IdName, string[] Ids, int[] Kept, Preprocessing Prep, List<string> Warnings);

public static class PredictInputs
{
    /// <summary>The --missing modes predict accepts.</summary>
    public static string CheckMissing(string? requested, TrainConfig c) => (requested ?? c.Missing).ToLowerInvariant() switch
    {
        var m when m is "error" or "drop" or "mean" or "zero" => m,
        var m => throw new UserError($"--missing '{m}': use error, drop, mean or zero (default: the run's own, {c.Missing})."),
    };

    public static PredictInput Load(string data, TrainConfig c, Preprocessing prep, string missing)
    {
        var warnings = new List<string>();
        var fillPrep = FillFor(prep, c, missing);
        var kind = FileKind.Of(data);
        if (kind == FileType.Directory || kind == FileType.Missing)
        {
            // Embedded datasets and IDX folders: their test split when they have one, else all of their rows.
            var d = ProblemBuilder.LoadSource(data, c.Target, c.ResolvedTask, CsvData.Options(c), c, asTest: true).Data;
            var x = FeatureCheck.Align(d.FeatureNames, d.Features, c.FeatureNames!, data, warnings, d.FeatureDivisor, null);
            int n = x.Size(0);
            return new PredictInput(x, d.FeatureDivisor, "row", Numbers(n), Enumerable.Range(0, n).ToArray(), fillPrep, warnings);
        }
        if (kind != FileType.Regular && kind is not (FileType.Fifo or FileType.CharacterDevice))
            throw new UserError($"--data '{data}' {FileKind.NotRegular(data)}; give a CSV file, a dataset name or an IDX folder.");
        var options = CsvData.Options(c with { Missing = missing is "mean" or "zero" ? "mean" : missing });
        // A pipe (--data <(zcat x.csv)) is read once, its text kept: the table may need to be built twice.
        string? text = kind == FileType.Regular ? null : ReadAll(data);
        CsvTable Open(CsvOptions o)
        {
            try { return text == null ? CsvTable.Load(data, o) : CsvTable.Parse(new StringReader(text), o, data); }
            catch (DataException e) { throw new UserError(Hint(e.Message)); }
        }
        var t = Open(options);
        var train = c.FeatureNames!;
        var raw = t.ColumnNames.ToArray();
        var skip = (c.TargetNames ?? []).Concat(c.Drop).ToHashSet();
        var used = raw.Where(r => !skip.Contains(r) && (train.Contains(r) || train.Any(n => n.StartsWith(r + "=", StringComparison.Ordinal)))).ToArray();
        // A column one-hot encoded in training but holding only numbers here (codes such as 1, 2, 3) is still categorical.
        var force = used.Where(r => !train.Contains(r) && t.IsNumeric(r) && !options.CategoricalColumns.Contains(r)).ToArray();
        if (force.Length > 0) t = Open(options = options with { CategoricalColumns = options.CategoricalColumns.Concat(force).ToArray() });
        foreach (var r in used)
            if (train.Contains(r) && !t.IsNumeric(r))
                throw new UserError($"{data}: column '{r}' held numbers in training but holds text here (e.g. '{t.GetColumn(r).FirstOrDefault(v => v.Length > 0)}'); fix its cells, or write missing values as empty cells.");
        FeatureCheck.RefuseLongerNumbering(raw, train, data);
        var idCol = raw.FirstOrDefault(n => n.Equals("id", StringComparison.OrdinalIgnoreCase));
        var ignored = raw.Where(r => !used.Contains(r) && !skip.Contains(r) && r != idCol).ToList();
        if (ignored.Count > 0)
            warnings.Add($"{data}: column{(ignored.Count == 1 ? "" : "s")} the model was not trained on {(ignored.Count == 1 ? "is" : "are")} ignored: {string.Join(", ", ignored.Take(10))}{(ignored.Count > 10 ? ", …" : "")}.");
        Tensor features; string[] names; int[] kept;
        try
        {
            names = t.FeatureNames(used);
            features = used.Length == 0 ? Tensor.Zeros(t.RowCount, 0) : t.Features(used);
            kept = used.Length == 0 ? Enumerable.Range(0, t.RowCount).ToArray() : t.KeptRows(used);
        }
        catch (DataException e) { throw new UserError(Hint(e.Message)); }
        var aligned = FeatureCheck.Align(names, features, train, data, warnings, 1f, raw, fill: missing is "mean" or "zero");
        var ids = idCol != null ? t.GetColumn(idCol).ToArray() : Numbers(t.RowCount);
        if (kept.Length < t.RowCount)
        {
            var droppedIds = Enumerable.Range(0, t.RowCount).Except(kept).Select(r => ids[r]).ToList();
            warnings.Add($"--missing drop: {droppedIds.Count} of {t.RowCount} rows have a missing value and no prediction ({(idCol ?? "row")} {string.Join(", ", droppedIds.Take(10))}{(droppedIds.Count > 10 ? ", …" : "")}); they are written with an empty prediction.");
        }
        return new PredictInput(aligned, 1f, idCol ?? "row", ids, kept, fillPrep, warnings);
    }

    private static string Hint(string message) => CsvData.CliHint(message);

    private static string[] Numbers(int n) => Enumerable.Range(1, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private static string ReadAll(string path)
    {
        using var r = new StreamReader(path);
        return r.ReadToEnd();
    }

    /// <summary>
    /// The preprocessing predict applies: the run's own; for --missing mean or zero on a run trained without fill values,
    /// zeros, or the training means kept by the feature scaler.
    /// </summary>
    private static Preprocessing FillFor(Preprocessing prep, TrainConfig c, string missing)
    {
        if (missing is not ("mean" or "zero") || prep.Fill != null) return prep;
        int f = c.FeatureNames!.Length;
        float[] fill;
        if (missing == "zero") fill = new float[f];
        else if (prep.Scaler is { } s) fill = s.StateDict()["mean"].ToArray();
        else throw new UserError($"predict --missing mean: the run keeps no training means (it was trained with --missing {c.Missing} and --scale none); use --missing zero or drop.");
        return new Preprocessing { Fill = fill, Scaler = prep.Scaler, TargetMean = prep.TargetMean, TargetStd = prep.TargetStd };
    }
}
