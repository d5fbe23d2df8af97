using System.Globalization;
using CsvHelper;

namespace Kindling.Data;

/// <summary>
/// A CSV file with a header row, held as text and turned into float32 feature tensors on demand: numeric columns are
/// used as they are, non-numeric columns are one-hot encoded (categories in sorted order, columns named
/// <c>column=value</c>), and target columns become int64 class indices or float32 values.
/// </summary>
/// <remarks>
/// Error messages locate a cell by its file line (the header is line 1; blank lines count) and its data row
/// (1-based, the header not counted), and name the column.
/// Numbers are parsed with the invariant culture ("1.5", "-2e3"), whatever the machine's locale.
/// </remarks>
public sealed class CsvTable
{
    private readonly string[] _names;
    private readonly string[][] _cells; // column-major: _cells[column][row]
    private readonly int[] _lines;  // file line where each data row starts, for messages
    private readonly CsvOptions _options;
    private readonly HashSet<string> _missingTokens;
    private readonly Column?[] _columns;

    private sealed class Column
    {
        public bool Numeric;
        public double[] Values = [];   // numeric columns; NaN where missing
        public bool[] Missing = [];
        public string[] Categories = []; // categorical columns, sorted ordinally
        public int[] Codes = [];         // categorical columns; -1 where missing
        public int FirstBadRow = -1;     // numeric columns with a few non-numbers: the first offending data row
        public int FirstNonFiniteRow = -1; // numeric columns: the first number that is not finite in float32 (1e39, Infinity, NAN)
    }

    private CsvTable(string source, string[] names, string[][] cells, int[] lines, CsvOptions options)
    {
        Source = source;
        _names = names;
        _cells = cells;
        _lines = lines;
        _options = options;
        _missingTokens = new HashSet<string>(options.MissingTokens, StringComparer.Ordinal) { "" };
        _columns = new Column?[names.Length];
    }

    /// <summary>Where the table came from (the file path), as used in error messages.</summary>
    public string Source { get; }

    /// <summary>The header's column names, in file order.</summary>
    public IReadOnlyList<string> ColumnNames => _names;

    /// <summary>Number of data rows (the header not counted).</summary>
    public int RowCount => _lines.Length;

    /// <summary>Reads the CSV file at <paramref name="path"/>; its first row must be the header.</summary>
    /// <exception cref="DataException">The file is missing, empty, header-only, has a row with the wrong number of fields, or is malformed.</exception>
    public static CsvTable Load(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new DataException($"CSV file '{path}' does not exist.");
        using var reader = new StreamReader(path);
        return Parse(reader, options, path);
    }

    /// <summary>Reads CSV text from <paramref name="reader"/>; <paramref name="source"/> names it in error messages.</summary>
    public static CsvTable Parse(TextReader reader, CsvOptions? options = null, string source = "CSV text")
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new CsvOptions();
        if (options.SkipRows < 0) throw new ArgumentOutOfRangeException(nameof(options), options.SkipRows, "CsvOptions.SkipRows must be >= 0.");
        int skipped = 0;
        for (; skipped < options.SkipRows; skipped++)
            if (reader.ReadLine() is null) throw new DataException($"{source}: the file has only {skipped} line{(skipped == 1 ? "" : "s")}, but {options.SkipRows} were to be skipped before the header.");
        var csvOptions = new CsvReaderOptions
        {
            Separator = options.Delimiter,
            CommentPrefix = options.CommentPrefix,
            HasHeader = true,
            SkipEmptyLines = true,
            TrimWhitespace = options.TrimWhitespace,
            // Field-count checks are done here so the message can say which line and what was expected.
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            // Recovering from bad quoting would silently merge or split fields; a data error should be seen.
            MalformedData = CsvMalformedDataHandling.Throw,
            TrackLineNumbers = true,
            PoolStrings = true, // every cell is kept, so repeated category strings are worth sharing
        };
        string[] header;
        var rows = new List<string[]>();
        var lines = new List<int>();
        try
        {
            using var csv = CsvReader.Create(reader, csvOptions, leaveOpen: true);
            header = csv.Headers.ToArray();
            if (header.Length == 0 || header.Length == 1 && header[0].Length == 0)
                throw new DataException($"{source}: the file is empty; expected a header row followed by data rows.");
            while (csv.Read())
            {
                int fields = csv.FieldCount;
                int line = (int)csv.LineNumber + skipped;
                if (fields != header.Length)
                    throw new DataException($"{source}: line {line} (data row {csv.RowNumber}) has {fields} field{(fields == 1 ? "" : "s")}, but the header has {header.Length}. Every row needs one value per column (check for a stray or missing '{(options.Delimiter is char d ? d.ToString() : "separator")}' or an unclosed quote{(options.Delimiter is null ? $"; the separator was detected from the first lines — give it explicitly if that was wrong" : "")}).");
                var record = new string[fields];
                for (int j = 0; j < fields; j++) record[j] = csv.GetString(j);
                rows.Add(record);
                lines.Add(line);
            }
        }
        catch (CsvFormatException e)
        {
            var where = e.LineNumber > 0 ? $" at line {e.LineNumber + skipped}" : "";
            throw new DataException($"{source}: malformed CSV{where}: {FirstLine(e.Message)}", e);
        }
        if (rows.Count == 0) throw new DataException($"{source}: the file has a header ({string.Join(", ", header)}) but no data rows.");

        var names = new string[header.Length];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int j = 0; j < header.Length; j++)
        {
            // Blank header cells (e.g. pandas' unnamed index column) still need a name to be addressable.
            names[j] = string.IsNullOrWhiteSpace(header[j]) ? $"column{j + 1}" : header[j];
            if (!seen.Add(names[j]))
                throw new DataException($"{source}: the header names column '{names[j]}' twice; column names must be unique so targets can be chosen by name.");
        }
        var cells = new string[names.Length][];
        for (int j = 0; j < names.Length; j++)
        {
            var col = new string[rows.Count];
            for (int r = 0; r < rows.Count; r++) col[r] = rows[r][j];
            cells[j] = col;
        }
        foreach (var c in options.CategoricalColumns)
            if (!seen.Contains(c)) throw UnknownColumn(source, c, names, "column in CsvOptions.CategoricalColumns");
        return new CsvTable(source, names, cells, lines.ToArray(), options);
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    /// <summary>The raw text of a column's cells (after trimming), one per data row.</summary>
    public IReadOnlyList<string> GetColumn(string name) => _cells[IndexOf(name, "column")];

    /// <summary>True when the column is used as a number; false when it is one-hot encoded.</summary>
    public bool IsNumeric(string name) => Info(IndexOf(name, "column")).Numeric;

    /// <summary>True when <paramref name="cell"/> (a trimmed cell text) counts as missing: empty or one of <see cref="CsvOptions.MissingTokens"/>.</summary>
    public bool IsMissingCell(string cell) => IsMissing(cell);

    /// <summary>
    /// The values of a numeric column (NaN where a cell is missing).
    /// </summary>
    /// <exception cref="DataException">The column is not numeric, or a cell is a word, not finite, or beyond float32's range; the message names the row.</exception>
    public IReadOnlyList<double> NumericValues(string name)
    {
        int j = IndexOf(name, "column");
        var c = Info(j);
        if (!c.Numeric) throw new DataException($"{Source}: column '{name}' is not numeric (it is one-hot encoded).");
        CheckNumeric(j, c);
        return c.Values;
    }

    /// <summary>The sorted categories of a one-hot encoded column (empty for numeric columns).</summary>
    public IReadOnlyList<string> Categories(string name) => Info(IndexOf(name, "column")).Categories;

    /// <summary>
    /// Float32 (N, F) features from <paramref name="columns"/> (all columns when null), in the given order, one-hot
    /// expanding categorical ones. Rows are dropped only with <see cref="MissingValueMode.Drop"/>.
    /// </summary>
    public Tensor Features(string[]? columns = null)
    {
        var cols = Resolve(columns ?? _names, "feature column");
        var keep = KeptRows(cols, []);
        return BuildFeatures(cols, keep);
    }

    /// <summary>The names of the columns <see cref="Features"/> produces for the same <paramref name="columns"/>.</summary>
    public string[] FeatureNames(string[]? columns = null) => NamesOf(Resolve(columns ?? _names, "feature column"));

    /// <summary>
    /// Features and targets for supervised learning. <paramref name="targetColumns"/> are chosen by name; the features
    /// are <paramref name="featureColumns"/>, or every other column when null.
    /// </summary>
    /// <param name="targetColumns">One column for classification; one or more for regression ((N) or (N, k) float32).</param>
    /// <param name="kind">
    /// <see cref="TargetKind.Classification"/>: the column's distinct values (integers sorted numerically, otherwise
    /// strings sorted ordinally) become int64 labels 0..K−1, kept in <see cref="LabeledData.ClassNames"/>.
    /// <see cref="TargetKind.Regression"/>: numeric values as float32. The caller decides, because integer-valued
    /// columns are as often regression targets (counts, scores) as class labels.
    /// </param>
    /// <param name="featureColumns">Feature columns, or null for all non-target columns.</param>
    public LabeledData ToData(string[] targetColumns, TargetKind kind, string[]? featureColumns = null)
    {
        ArgumentNullException.ThrowIfNull(targetColumns);
        if (targetColumns.Length == 0) throw new DataException($"{Source}: no target column given; available columns: {string.Join(", ", _names)}.");
        var targets = Resolve(targetColumns, "target column");
        if (kind == TargetKind.Classification && targets.Length > 1)
            throw new DataException($"{Source}: classification takes one target column, got {targets.Length} ({string.Join(", ", targetColumns)}). For several 0/1 indicator columns (multi-label) use TargetKind.Regression, which gives (N, k) float32 targets.");
        int[] features;
        if (featureColumns is null) features = Enumerable.Range(0, _names.Length).Where(j => !targets.Contains(j)).ToArray();
        else
        {
            features = Resolve(featureColumns, "feature column");
            foreach (int j in features)
                if (targets.Contains(j))
                    throw new DataException($"{Source}: column '{_names[j]}' is both a target and a feature; a model must not see its own target.");
        }
        var keep = KeptRows(features, targets);
        var x = BuildFeatures(features, keep);
        var targetNames = targets.Select(j => _names[j]).ToArray();
        if (kind == TargetKind.Classification)
        {
            var (labels, classNames) = BuildLabels(targets[0], keep);
            return new LabeledData(x, labels, NamesOf(features), targetNames, classNames);
        }
        var y = BuildRegression(targets, keep);
        return new LabeledData(x, y, NamesOf(features), targetNames);
    }

    /// <summary>Shorthand for <see cref="ToData"/>(...).<see cref="LabeledData.ToDataset"/>: a dataset carrying the feature and class names.</summary>
    public TensorDataset ToDataset(string[] targetColumns, TargetKind kind, string[]? featureColumns = null) =>
        ToData(targetColumns, kind, featureColumns).ToDataset();

    // ---------------------------------------------------------------- columns

    private int IndexOf(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        int j = Array.IndexOf(_names, name);
        if (j < 0) throw UnknownColumn(Source, name, _names, what);
        return j;
    }

    private int[] Resolve(string[] names, string what)
    {
        var idx = new int[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            idx[i] = IndexOf(names[i], what);
            if (Array.IndexOf(idx, idx[i], 0, i) >= 0) throw new DataException($"{Source}: {what} '{names[i]}' is listed twice.");
        }
        return idx;
    }

    private static DataException UnknownColumn(string source, string name, string[] names, string what)
    {
        var close = names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase) || string.Equals(n.Trim(), name.Trim(), StringComparison.Ordinal));
        var hint = close is null ? "" : $" Did you mean '{close}'?";
        return new DataException($"{source}: unknown {what} '{name}'.{hint} Available columns: {string.Join(", ", names)}.");
    }

    private string Where(int r) => $"line {_lines[r]} (data row {r + 1})";

    private bool IsMissing(string cell) => _missingTokens.Contains(cell);

    private Column Info(int j)
    {
        if (_columns[j] is { } known) return known;
        var cells = _cells[j];
        int n = cells.Length;
        var missing = new bool[n];
        var values = new double[n];
        int numeric = 0, other = 0, firstBad = -1, firstNonFinite = -1;
        for (int r = 0; r < n; r++)
        {
            if (IsMissing(cells[r])) { missing[r] = true; values[r] = double.NaN; continue; }
            if (double.TryParse(cells[r], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                values[r] = v; numeric++;
                // Features and targets become float32: a value beyond its range (1e39) or not finite (Infinity, a NaN
                // not spelled as a missing token) would only surface later as a diverging loss.
                if (firstNonFinite < 0 && !(Math.Abs(v) <= float.MaxValue)) firstNonFinite = r;
            }
            else { values[r] = double.NaN; other++; if (firstBad < 0) firstBad = r; }
        }
        var col = new Column { Missing = missing };
        // A column of mostly numbers with a few words is a numeric column with typos, not a categorical one:
        // one-hot encoding it would silently turn every distinct number into its own indicator.
        if (!_options.CategoricalColumns.Contains(_names[j]) && numeric >= other)
        {
            col.Numeric = true;
            col.Values = values;
            col.FirstBadRow = other > 0 ? firstBad : -1;
            col.FirstNonFiniteRow = firstNonFinite;
        }
        else
        {
            var cats = new SortedSet<string>(StringComparer.Ordinal);
            for (int r = 0; r < n; r++) if (!missing[r]) cats.Add(cells[r]);
            col.Categories = cats.ToArray();
            var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int k = 0; k < col.Categories.Length; k++) lookup[col.Categories[k]] = k;
            col.Codes = new int[n];
            for (int r = 0; r < n; r++) col.Codes[r] = missing[r] ? -1 : lookup[cells[r]];
        }
        return _columns[j] = col;
    }

    private void CheckNumeric(int j, Column c)
    {
        if (c.FirstNonFiniteRow >= 0)
        {
            int r = c.FirstNonFiniteRow;
            throw new DataException($"{Source}: column '{_names[j]}' at {Where(r)} has '{_cells[j][r]}', which is not a finite float32 number (the limit is ±{float.MaxValue:R}). Fix the cell, or write a missing value as empty or one of {string.Join(", ", _options.MissingTokens)}.");
        }
        if (c.FirstBadRow >= 0)
        {
            int r = c.FirstBadRow;
            throw new DataException($"{Source}: column '{_names[j]}' is numeric, but {Where(r)} has the non-numeric value '{_cells[j][r]}'. Fix the cell, write it as a missing value (empty or one of {string.Join(", ", _options.MissingTokens)}), or list '{_names[j]}' in CsvOptions.CategoricalColumns to one-hot encode the column.");
        }
    }

    private DataException MissingError(int j, int r, string role) => new(
        $"{Source}: missing value in {role} '{_names[j]}' at {Where(r)} (cell '{_cells[j][r]}'). " +
        (role == "target column"
            ? "Targets are never filled in; fix the data or set CsvOptions.MissingValues = MissingValueMode.Drop to skip such rows."
            : "Set CsvOptions.MissingValues to Mean, Zero or Drop to fill or skip missing cells."));

    /// <summary>Indices of the data rows to use; only <see cref="MissingValueMode.Drop"/> leaves rows out.</summary>
    private int[] KeptRows(int[] features, int[] targets)
    {
        int n = RowCount;
        var drop = new bool[n];
        bool dropMode = _options.MissingValues == MissingValueMode.Drop;
        foreach (int j in targets)
        {
            var c = Info(j);
            for (int r = 0; r < n; r++)
                if (c.Missing[r]) { if (dropMode) drop[r] = true; else throw MissingError(j, r, "target column"); }
        }
        foreach (int j in features)
        {
            var c = Info(j);
            for (int r = 0; r < n; r++)
                if (c.Missing[r]) { if (dropMode) drop[r] = true; else if (_options.MissingValues == MissingValueMode.Error) throw MissingError(j, r, "column"); }
        }
        var keep = new List<int>(n);
        for (int r = 0; r < n; r++) if (!drop[r]) keep.Add(r);
        if (keep.Count == 0) throw new DataException($"{Source}: every row has a missing value in the selected columns, so MissingValueMode.Drop left no rows.");
        return keep.ToArray();
    }

    private string[] NamesOf(int[] cols)
    {
        var names = new List<string>();
        foreach (int j in cols)
        {
            var c = Info(j);
            if (c.Numeric) names.Add(_names[j]);
            else foreach (var cat in c.Categories) names.Add($"{_names[j]}={cat}");
        }
        return names.ToArray();
    }

    private Tensor BuildFeatures(int[] cols, int[] keep)
    {
        long wide = 0;
        foreach (int j in cols) { var c = Info(j); if (c.Numeric) CheckNumeric(j, c); wide += c.Numeric ? 1 : c.Categories.Length; }
        int n = keep.Length;
        if (wide * n > Array.MaxLength)
        {
            int widest = cols.Where(j => !Info(j).Numeric).OrderByDescending(j => Info(j).Categories.Length).DefaultIfEmpty(-1).First();
            string culprit = widest < 0 ? "" : $" Column '{_names[widest]}' alone has {Info(widest).Categories.Length} distinct values; leave it out if it is an identifier.";
            throw new DataException($"{Source}: one-hot encoding gives {n} rows × {wide} columns = {wide * n} values, more than one array holds ({Array.MaxLength}).{culprit}");
        }
        int width = (int)wide;
        var x = new float[n * width];
        int offset = 0;
        foreach (int j in cols)
        {
            var c = Info(j);
            if (c.Numeric)
            {
                double fill = _options.MissingValues switch { MissingValueMode.Mean => ColumnMean(j, c), MissingValueMode.Keep => double.NaN, _ => 0 };
                for (int i = 0; i < n; i++)
                {
                    int r = keep[i];
                    x[i * width + offset] = (float)(c.Missing[r] ? fill : c.Values[r]);
                }
                offset++;
            }
            else
            {
                int fillCode = _options.MissingValues == MissingValueMode.Mean ? MostFrequent(j, c) : -1;
                for (int i = 0; i < n; i++)
                {
                    int code = c.Codes[keep[i]];
                    if (code < 0 && _options.MissingValues == MissingValueMode.Keep)
                    {
                        for (int k = 0; k < c.Categories.Length; k++) x[i * width + offset + k] = float.NaN;
                        continue;
                    }
                    if (code < 0) code = fillCode;
                    if (code >= 0) x[i * width + offset + code] = 1f;
                }
                offset += c.Categories.Length;
            }
        }
        return Tensor.Wrap(x, [n, width]);
    }

    private double ColumnMean(int j, Column c)
    {
        double sum = 0; int count = 0;
        for (int r = 0; r < c.Values.Length; r++) if (!c.Missing[r]) { sum += c.Values[r]; count++; }
        if (count == 0) throw new DataException($"{Source}: column '{_names[j]}' has no values at all, so MissingValueMode.Mean has no mean to fill it with.");
        return sum / count;
    }

    private int MostFrequent(int j, Column c)
    {
        if (c.Categories.Length == 0) throw new DataException($"{Source}: column '{_names[j]}' has no values at all, so MissingValueMode.Mean has no most frequent category to fill it with.");
        var counts = new int[c.Categories.Length];
        foreach (int code in c.Codes) if (code >= 0) counts[code]++;
        int best = 0;
        for (int k = 1; k < counts.Length; k++) if (counts[k] > counts[best]) best = k; // ties: first in sorted order
        return best;
    }

    private (Tensor Labels, string[] ClassNames) BuildLabels(int j, int[] keep)
    {
        var c = Info(j);
        int n = keep.Length;
        var y = new long[n];
        if (c.Numeric && c.FirstBadRow < 0)
        {
            // Numeric labels sort as numbers (so 10 comes after 9) and must be whole: 2.5 is not a class.
            CheckNumeric(j, c);
            var distinct = new SortedSet<double>();
            foreach (int r in keep)
            {
                double v = c.Values[r];
                // Beyond 2^53 neighbouring integers share one double: two different labels would silently become one class.
                if (Math.Abs(v) >= 9007199254740992.0)
                    throw new DataException($"{Source}: classification target '{_names[j]}' has the label '{_cells[j][r]}' at {Where(r)}, at or beyond 2^53 where distinct integers are no longer exact as numbers; list '{_names[j]}' in CsvOptions.CategoricalColumns to use the labels as text.");
                if (v != Math.Floor(v) || double.IsInfinity(v))
                    throw new DataException($"{Source}: classification target '{_names[j]}' has the non-integer value '{_cells[j][r]}' at {Where(r)}. Class labels must be integers or names; for real-valued targets use TargetKind.Regression.");
                distinct.Add(v);
            }
            var classes = distinct.ToArray();
            var index = new Dictionary<double, long>();
            for (int k = 0; k < classes.Length; k++) index[classes[k]] = k;
            for (int i = 0; i < n; i++) y[i] = index[c.Values[keep[i]]];
            return (Tensor.Wrap(y, [n]), classes.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
        }
        // Text labels (or a numeric-looking column with some words): every distinct text is a class.
        var cells = _cells[j];
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (int r in keep) names.Add(cells[r]);
        var sorted = names.ToArray();
        var lookup = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int k = 0; k < sorted.Length; k++) lookup[sorted[k]] = k;
        for (int i = 0; i < n; i++) y[i] = lookup[cells[keep[i]]];
        return (Tensor.Wrap(y, [n]), sorted);
    }

    private Tensor BuildRegression(int[] targets, int[] keep)
    {
        int k = targets.Length, n = keep.Length;
        var y = new float[n * k];
        for (int t = 0; t < k; t++)
        {
            int j = targets[t];
            var c = Info(j);
            if (!c.Numeric)
            {
                int r = Array.FindIndex(c.Codes, code => code >= 0);
                throw new DataException($"{Source}: regression target '{_names[j]}' is not numeric ({Where(Math.Max(r, 0))} has '{_cells[j][Math.Max(r, 0)]}'). For class labels use TargetKind.Classification.");
            }
            CheckNumeric(j, c);
            for (int i = 0; i < n; i++) y[i * k + t] = (float)c.Values[keep[i]];
        }
        return k == 1 ? Tensor.Wrap(y, [n]) : Tensor.Wrap(y, [n, k]);
    }
}
