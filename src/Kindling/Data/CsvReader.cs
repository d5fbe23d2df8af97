using System.Globalization;
using CsvHelper;

namespace Kindling.Data;

/// <summary>
/// A CSV file with a header row, parsed into numbers while it is read and turned into float32 feature tensors on
/// demand: numeric columns are used as they are, non-numeric columns are one-hot encoded (categories in sorted order,
/// columns named <c>column=value</c>), and target columns become int64 class indices or float32 values.
/// </summary>
/// <remarks>
/// <para>Error messages locate a cell by its file line (the header is line 1; blank lines count) and its data row
/// (1-based, the header not counted), and name the column.
/// Numbers are parsed with the invariant culture ("1.5", "-2e3"), whatever the machine's locale.</para>
/// <para>Memory: a numeric column is held as float32 (4 bytes a row; parsed as float64 and rounded, exactly what the
/// features become) plus a missing mask only when it has missing cells; columns in <see cref="CsvOptions.ExactColumns"/>
/// as float64; text columns as their (pooled) strings. A file of N rows × F numeric columns so needs about 4·N·F bytes,
/// not the whole file as strings. Cell texts that are not kept (a numeric column's cells, for an error message or
/// <see cref="GetColumn"/>, or a column that turns out to be text only after many numbers) are read again from the
/// source: <see cref="Load"/> re-opens the file, <see cref="Parse"/> keeps the text it was given.</para>
/// </remarks>
public sealed class CsvTable
{
    private readonly string[] _names;
    private readonly ChunkedList<int> _lines;  // file line where each data row starts, for messages
    private readonly CsvOptions _options;
    private readonly Column[] _columns;
    private readonly Func<TextReader> _reopen;
    private readonly HashSet<string> _missingTokens;

    private sealed class Column
    {
        public bool Numeric;
        public bool Forced;              // listed in CsvOptions.CategoricalColumns
        public bool Exact;               // listed in CsvOptions.ExactColumns (or made exact on demand): float64 values
        public ChunkedList<string>? Strings; // every cell's text: text columns (and numeric columns that began as text)
        public ChunkedList<float>? F;    // numeric values as float32; NaN where missing or not a number
        public ChunkedList<double>? D;   // numeric values as float64 (exact columns)
        public bool[]? Missing;          // null when no cell is missing
        public List<int>? MissingRows = [];
        public List<string>? Leading = []; // texts of the missing cells before the first present one (while reading)
        public int Present, Other;       // numbers and non-numbers among the present cells
        public double Sum;               // the numbers' sum in row order: MissingValueMode.Mean without a second pass
        public int FirstBadRow = -1;     // numeric columns with a few non-numbers: the first offending data row
        public int FirstNonFiniteRow = -1; // numeric columns: the first number that is not finite in float32 (1e39, Infinity, NAN)
        public int FirstMissingRow = -1;
        public SpreadsheetFormat Formats; // spreadsheet conventions met among the numbers ("1,234", "45%", "$15.00")
        public string? FormatExample;     // the first cell read with one of them
        public string? FirstBadText, FirstNonFiniteText, FirstMissingText;
        public string[] Categories = []; // categorical columns, sorted ordinally
        public int[] Codes = [];         // categorical columns; -1 where missing

        public bool IsMissing(int r) => Missing is { } m && m[r];
        public double Value(int r) => D is { } d ? d[r] : F![r];
    }

    private CsvTable(string source, string[] names, Column[] columns, ChunkedList<int> lines, CsvOptions options, Func<TextReader> reopen)
    {
        Source = source;
        _names = names;
        _columns = columns;
        _lines = lines;
        _options = options;
        _reopen = reopen;
        _missingTokens = new HashSet<string>(options.MissingTokens, StringComparer.Ordinal) { "" };
    }

    private char _separator = ',';

    /// <summary>
    /// Numeric columns whose cells were read by spreadsheet conventions (<see cref="CsvOptions.SpreadsheetNumbers"/>):
    /// the column, the conventions met and the first such cell, so a caller can say how "1,234" or "45%" was read.
    /// </summary>
    public IReadOnlyList<(string Column, SpreadsheetFormat Format, string Example)> SpreadsheetColumns =>
        Enumerable.Range(0, _names.Length).Where(j => _columns[j].Numeric && _columns[j].Formats != SpreadsheetFormat.None)
            .Select(j => (_names[j], _columns[j].Formats, _columns[j].FormatExample!)).ToList();

    /// <summary>The field separator used (given or detected).</summary>
    public char Separator => _separator;

    /// <summary>The 1-based file line of data row <paramref name="row"/> (0-based), for messages and row identity.</summary>
    public int LineOf(int row) => _lines[row];

    /// <summary>
    /// The 0-based data rows that <see cref="Features"/> keeps for <paramref name="columns"/>: every row, except under
    /// <see cref="MissingValueMode.Drop"/> the rows with a missing cell in those columns.
    /// </summary>
    public int[] KeptRows(string[] columns) => KeptRows(Resolve(columns, "feature column"), []);

    /// <summary>Where the table came from (the file path), as used in error messages.</summary>
    public string Source { get; }

    /// <summary>The header's column names, in file order.</summary>
    public IReadOnlyList<string> ColumnNames => _names;

    /// <summary>Number of data rows (the header not counted).</summary>
    public int RowCount => _lines.Count;

    /// <summary>Reads the CSV file at <paramref name="path"/>; its first row must be the header.</summary>
    /// <remarks>The file is re-opened when a cell's text is needed later (an error message, <see cref="GetColumn"/> of a
    /// numeric column): it should not change while the table is in use.</remarks>
    /// <exception cref="DataException">The file is missing, empty, header-only, has a row with the wrong number of fields, or is malformed.</exception>
    public static CsvTable Load(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new DataException($"CSV file '{path}' does not exist.");
        // A pipe or device (predict --data <(zcat x.csv)) can be read only once: its text is kept instead of re-read.
        if (Kindling.IO.FileKind.Of(path) is not Kindling.IO.FileType.Regular)
        {
            string text;
            using (var r = new StreamReader(path)) text = r.ReadToEnd();
            return Read(() => new StringReader(text), options, path);
        }
        return Read(() => new StreamReader(path), options, path);
    }

    /// <summary>Reads CSV text from <paramref name="reader"/>; <paramref name="source"/> names it in error messages.</summary>
    /// <remarks>The text is read whole and kept (cells not held as text are read again from it when needed); for a large
    /// file use <see cref="Load"/>, which re-reads the file instead.</remarks>
    public static CsvTable Parse(TextReader reader, CsvOptions? options = null, string source = "CSV text")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var text = reader.ReadToEnd();
        return Read(() => new StringReader(text), options, source);
    }

    private static CsvTable Read(Func<TextReader> open, CsvOptions? options, string source)
    {
        options ??= new CsvOptions();
        if (options.SkipRows < 0) throw new ArgumentOutOfRangeException(nameof(options), options.SkipRows, "CsvOptions.SkipRows must be >= 0.");
        string[] names = [];
        char separator = ',';
        string? duplicate = null;
        Column[] columns = [];
        var lines = new ChunkedList<int>();
        var tokens = new HashSet<string>(options.MissingTokens, StringComparer.Ordinal) { "" };
        var missingLookup = tokens.GetAlternateLookup<ReadOnlySpan<char>>();
        var buffer = new char[256];
        using (var reader = open())
            Scan(reader, options, source,
                (header, sep) =>
                {
                    separator = sep;
                    names = new string[header.Length];
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    for (int j = 0; j < header.Length; j++)
                    {
                        // Blank header cells (e.g. pandas' unnamed index column) still need a name to be addressable.
                        // Some statistics packages quote header names with single quotes ('vote'): the quotes are not part of the name.
                        var h = header[j].Trim();
                        if (h.Length >= 2 && h[0] == '\'' && h[^1] == '\'') h = h[1..^1];
                        names[j] = string.IsNullOrWhiteSpace(h) ? $"column{j + 1}" : h;
                        // Reported after the rows, as before: a row with the wrong field count is the first error.
                        if (!seen.Add(names[j])) duplicate ??= names[j];
                    }
                    var exact = options.ExactColumns;
                    columns = new Column[names.Length];
                    for (int j = 0; j < names.Length; j++)
                    {
                        var c = columns[j] = new Column { Forced = options.CategoricalColumns.Contains(names[j]), Exact = exact.Contains(names[j]) };
                        if (c.Forced) c.Strings = new ChunkedList<string>();
                        else if (c.Exact) c.D = new ChunkedList<double>();
                        else c.F = new ChunkedList<float>();
                    }
                },
                (csv, line) =>
                {
                    int r = lines.Count;
                    lines.Add(line);
                    for (int j = 0; j < columns.Length; j++)
                    {
                        var c = columns[j];
                        if (c.Strings != null) { c.Strings.Add(csv.GetString(j)); continue; }
                        ReadOnlySpan<char> cell;
                        try { cell = buffer.AsSpan(0, csv.GetChars(j, buffer)); }
                        catch (ArgumentException) { cell = csv.GetString(j); } // longer than the buffer: a word, not a number
                        if (missingLookup.Contains(cell))
                        {
                            if (c.Present + c.Other == 0) c.Leading!.Add(csv.GetString(j));
                            AddCell(c, r, Cell.Missing, 0, null, csv, j);
                        }
                        else if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) AddCell(c, r, Cell.Number, v, null, csv, j);
                        else if (options.SpreadsheetNumbers && SpreadsheetNumber.TryParse(cell, separator, out v, out var format))
                        {
                            c.Formats |= format;
                            c.FormatExample ??= csv.GetString(j);
                            AddCell(c, r, Cell.Number, v, null, csv, j);
                        }
                        else if (c.Present + c.Other == 0)
                        {
                            // The first present cell is a word: most likely a text column, so keep every cell's text from
                            // here on (the missing cells before it were kept as text too) and decide at the end.
                            c.Strings = new ChunkedList<string>();
                            foreach (var s in c.Leading!) c.Strings.Add(s);
                            c.Strings.Add(csv.GetString(j));
                            c.F = null; c.D = null; c.Leading = null; c.MissingRows = [];
                            c.FirstMissingRow = -1; c.FirstMissingText = null;
                        }
                        else AddCell(c, r, Cell.Word, 0, null, csv, j);
                    }
                });
        if (lines.Count == 0) throw new DataException($"{source}: the file has a header ({string.Join(", ", names)}) but no data rows.");
        if (duplicate != null)
            throw new DataException($"{source}: the header names column '{duplicate}' twice; column names must be unique so targets can be chosen by name.");
        foreach (var name in options.CategoricalColumns)
            if (!names.Contains(name)) throw UnknownColumn(source, name, names, "column in CsvOptions.CategoricalColumns");

        var table = new CsvTable(source, names, columns, lines, options, open) { _separator = separator };
        // Columns read as numbers whose present cells are mostly words after all are categorical: their texts are read again.
        var reread = Enumerable.Range(0, columns.Length).Where(j => columns[j].Strings == null && columns[j].Other > columns[j].Present).ToArray();
        if (reread.Length > 0)
        {
            var texts = table.ReadText(reread);
            for (int k = 0; k < reread.Length; k++) columns[reread[k]].Strings = texts[k];
        }
        for (int j = 0; j < columns.Length; j++) table.Finish(j, tokens);
        return table;
    }

    private enum Cell { Missing, Number, Word }

    /// <summary>Adds one cell of a column read as numbers; <paramref name="text"/> is its text when known, else it is taken from <paramref name="csv"/> when a message needs it.</summary>
    private static void AddCell(Column c, int r, Cell kind, double v, string? text, CsvHelper.CsvReader? csv, int j)
    {
        switch (kind)
        {
            case Cell.Missing:
                c.MissingRows!.Add(r);
                if (c.FirstMissingRow < 0) { c.FirstMissingRow = r; c.FirstMissingText = text ?? csv!.GetString(j); }
                v = double.NaN;
                break;
            case Cell.Word:
                c.Other++;
                if (c.FirstBadRow < 0) { c.FirstBadRow = r; c.FirstBadText = text ?? csv!.GetString(j); }
                v = double.NaN;
                break;
            default:
                c.Present++;
                c.Sum += v;
                // Features and targets become float32: a value beyond its range (1e39) or not finite (Infinity, a NaN
                // not spelled as a missing token) would only surface later as a diverging loss.
                if (c.FirstNonFiniteRow < 0 && !(Math.Abs(v) <= float.MaxValue)) { c.FirstNonFiniteRow = r; c.FirstNonFiniteText = text ?? csv!.GetString(j); }
                break;
        }
        if (c.D != null) c.D.Add(v); else c.F?.Add((float)v);
    }

    /// <summary>Settles a column's kind once every row is read: text columns are classified by their cells, categorical ones get codes.</summary>
    private void Finish(int j, HashSet<string> tokens)
    {
        var c = _columns[j];
        if (c.Strings is { } strings && (c.F == null && c.D == null))
        {
            // Held as text: count numbers and words the same way the numeric reading does.
            c.MissingRows = []; c.Present = c.Other = 0; c.Sum = 0; c.Formats = SpreadsheetFormat.None; c.FormatExample = null;
            c.FirstBadRow = c.FirstNonFiniteRow = c.FirstMissingRow = -1;
            if (!c.Forced)
            {
                if (c.Exact) c.D = new ChunkedList<double>(); else c.F = new ChunkedList<float>();
            }
            for (int r = 0; r < strings.Count; r++)
            {
                var s = strings[r];
                if (tokens.Contains(s)) AddCell(c, r, Cell.Missing, 0, s, null, j);
                else if (c.Forced) continue;
                else if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) AddCell(c, r, Cell.Number, v, s, null, j);
                else if (_options.SpreadsheetNumbers && SpreadsheetNumber.TryParse(s, _separator, out v, out var format))
                {
                    c.Formats |= format;
                    c.FormatExample ??= s;
                    AddCell(c, r, Cell.Number, v, s, null, j);
                }
                else AddCell(c, r, Cell.Word, 0, s, null, j);
            }
        }
        if (c.MissingRows is { Count: > 0 } rows)
        {
            c.Missing = new bool[RowCount];
            foreach (int r in rows) c.Missing[r] = true;
        }
        c.MissingRows = null; c.Leading = null;
        // A column of mostly numbers with a few words is a numeric column with typos, not a categorical one:
        // one-hot encoding it would silently turn every distinct number into its own indicator.
        if (!c.Forced && c.Present >= c.Other)
        {
            c.Numeric = true;
            if (c.Other == 0) c.FirstBadRow = -1;
            return;
        }
        c.F = null; c.D = null;
        var cells = c.Strings!;
        var cats = new SortedSet<string>(StringComparer.Ordinal);
        for (int r = 0; r < cells.Count; r++) if (!c.IsMissing(r)) cats.Add(cells[r]);
        c.Categories = cats.ToArray();
        var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < c.Categories.Length; k++) lookup[c.Categories[k]] = k;
        c.Codes = new int[cells.Count];
        for (int r = 0; r < cells.Count; r++) c.Codes[r] = c.IsMissing(r) ? -1 : lookup[cells[r]];
    }

    /// <summary>
    /// Runs the CSV reader over <paramref name="reader"/>: skips <see cref="CsvOptions.SkipRows"/>, hands the header to
    /// <paramref name="onHeader"/> and each data row (with its file line) to <paramref name="onRow"/>, checking field counts.
    /// </summary>
    private static void Scan(TextReader reader, CsvOptions options, string source, Action<string[], char> onHeader, Action<CsvHelper.CsvReader, int> onRow)
    {
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
            PoolStrings = true, // text cells are kept, so repeated category strings are worth sharing
        };
        try
        {
            using var csv = CsvHelper.CsvReader.Create(reader, csvOptions, leaveOpen: true);
            var header = csv.Headers.ToArray();
            if (header.Length == 0 || header.Length == 1 && header[0].Length == 0)
                throw new DataException($"{source}: the file is empty; expected a header row followed by data rows.");
            onHeader(header, csv.Separator);
            while (csv.Read())
            {
                int fields = csv.FieldCount;
                int line = (int)csv.LineNumber + skipped;
                if (fields != header.Length)
                    throw new DataException($"{source}: line {line} (data row {csv.RowNumber}) has {fields} field{(fields == 1 ? "" : "s")}, but the header has {header.Length}. Every row needs one value per column (check for a stray or missing '{(options.Delimiter is char d ? d.ToString() : "separator")}' or an unclosed quote{(options.Delimiter is null ? $"; the separator was detected from the first lines — give it explicitly if that was wrong" : "")}).");
                onRow(csv, line);
            }
        }
        catch (CsvFormatException e)
        {
            var where = e.LineNumber > 0 ? $" at line {e.LineNumber + skipped}" : "";
            throw new DataException($"{source}: malformed CSV{where}: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>The texts of <paramref name="cols"/>, read again from the source.</summary>
    private ChunkedList<string>[] ReadText(int[] cols)
    {
        var result = cols.Select(_ => new ChunkedList<string>()).ToArray();
        using var reader = _reopen();
        Scan(reader, _options, Source, (_, _) => { }, (csv, _) =>
        {
            for (int k = 0; k < cols.Length; k++) result[k].Add(csv.GetString(cols[k]));
        });
        if (result.Any(t => t.Count != RowCount))
            throw new DataException($"{Source}: the file changed while it was in use (it now has a different number of rows); load it again.");
        return result;
    }

    /// <summary>The text of one cell: kept, remembered for messages, or read again.</summary>
    private string CellText(int j, int r)
    {
        var c = _columns[j];
        if (c.Strings is { } s) return s[r];
        if (r == c.FirstBadRow) return c.FirstBadText!;
        if (r == c.FirstNonFiniteRow) return c.FirstNonFiniteText!;
        if (r == c.FirstMissingRow) return c.FirstMissingText!;
        return ReadText([j])[0][r];
    }

    /// <summary>Float64 values of a numeric column, parsed again from its text if it was held as float32.</summary>
    private ChunkedList<double> ExactValues(int j)
    {
        var c = _columns[j];
        if (c.D is { } d) return d;
        var texts = c.Strings ?? ReadText([j])[0];
        d = new ChunkedList<double>();
        for (int r = 0; r < texts.Count; r++)
            d.Add(!c.IsMissing(r) && (double.TryParse(texts[r], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                || _options.SpreadsheetNumbers && SpreadsheetNumber.TryParse(texts[r], _separator, out v, out _)) ? v : double.NaN);
        c.D = d;
        c.F = null;
        c.Exact = true;
        return d;
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    /// <summary>The raw text of a column's cells (after trimming), one per data row.</summary>
    /// <remarks>Text columns are held as text; a numeric column's texts are read again from the source on each call.</remarks>
    public IReadOnlyList<string> GetColumn(string name)
    {
        int j = IndexOf(name, "column");
        return _columns[j].Strings ?? (IReadOnlyList<string>)ReadText([j])[0];
    }

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
        return ExactValues(j);
    }

    /// <summary>
    /// The float32 values of a numeric column as the features hold them (NaN where a cell is missing or not a number),
    /// without copying; unlike <see cref="NumericValues"/> this never re-reads the file and does not check the cells.
    /// </summary>
    public IReadOnlyList<float> Float32Values(string name)
    {
        int j = IndexOf(name, "column");
        var c = Info(j);
        if (!c.Numeric) throw new DataException($"{Source}: column '{name}' is not numeric (it is one-hot encoded).");
        return c.F is { } f ? f : new Float32View(c.D!);
    }

    private sealed class Float32View(ChunkedList<double> d) : IReadOnlyList<float>
    {
        public float this[int index] => (float)d[index];
        public int Count => d.Count;
        public IEnumerator<float> GetEnumerator() { foreach (var v in d) yield return (float)v; }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
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

    private Column Info(int j) => _columns[j];

    private void CheckNumeric(int j, Column c)
    {
        if (c.FirstNonFiniteRow >= 0)
        {
            int r = c.FirstNonFiniteRow;
            throw new DataException($"{Source}: column '{_names[j]}' at {Where(r)} has '{CellText(j, r)}', which is not a finite float32 number (the limit is ±{float.MaxValue:R}). Fix the cell, or write a missing value as empty or one of {string.Join(", ", _options.MissingTokens)}.");
        }
        if (c.FirstBadRow >= 0)
        {
            int r = c.FirstBadRow;
            throw new DataException($"{Source}: column '{_names[j]}' is numeric, but {Where(r)} has the non-numeric value '{CellText(j, r)}'. Fix the cell, write it as a missing value (empty or one of {string.Join(", ", _options.MissingTokens)}), or list '{_names[j]}' in CsvOptions.CategoricalColumns to one-hot encode the column.");
        }
    }

    private DataException MissingError(int j, int r, string role) => new(
        $"{Source}: missing value in {role} '{_names[j]}' at {Where(r)} (cell '{CellText(j, r)}'). " +
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
                if (c.IsMissing(r)) { if (dropMode) drop[r] = true; else throw MissingError(j, r, "target column"); }
        }
        foreach (int j in features)
        {
            var c = Info(j);
            for (int r = 0; r < n; r++)
                if (c.IsMissing(r)) { if (dropMode) drop[r] = true; else if (_options.MissingValues == MissingValueMode.Error) throw MissingError(j, r, "column"); }
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
                    x[i * width + offset] = c.IsMissing(r) ? (float)fill : c.F is { } f ? f[r] : (float)c.D![r];
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
        // The sum was taken in row order while reading, from the float64 values: the same mean as summing them now.
        double sum = c.Sum; int count = c.Present + c.Other;
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
            var values = ExactValues(j);
            var distinct = new SortedSet<double>();
            foreach (int r in keep)
            {
                double v = values[r];
                // Beyond 2^53 neighbouring integers share one double: two different labels would silently become one class.
                if (Math.Abs(v) >= 9007199254740992.0)
                    throw new DataException($"{Source}: classification target '{_names[j]}' has the label '{CellText(j, r)}' at {Where(r)}, at or beyond 2^53 where distinct integers are no longer exact as numbers; list '{_names[j]}' in CsvOptions.CategoricalColumns to use the labels as text.");
                if (v != Math.Floor(v) || double.IsInfinity(v))
                    throw new DataException($"{Source}: classification target '{_names[j]}' has the non-integer value '{CellText(j, r)}' at {Where(r)}. Class labels must be integers or names; for real-valued targets use TargetKind.Regression.");
                distinct.Add(v);
            }
            var classes = distinct.ToArray();
            var index = new Dictionary<double, long>();
            for (int k = 0; k < classes.Length; k++) index[classes[k]] = k;
            for (int i = 0; i < n; i++) y[i] = index[values[keep[i]]];
            return (Tensor.Wrap(y, [n]), classes.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
        }
        // Text labels (or a numeric-looking column with some words): every distinct text is a class.
        var cells = c.Strings ?? ReadText([j])[0];
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
                throw new DataException($"{Source}: regression target '{_names[j]}' is not numeric ({Where(Math.Max(r, 0))} has '{CellText(j, Math.Max(r, 0))}'). For class labels use TargetKind.Classification.");
            }
            CheckNumeric(j, c);
            for (int i = 0; i < n; i++) y[i * k + t] = (float)c.Value(keep[i]);
        }
        return k == 1 ? Tensor.Wrap(y, [n]) : Tensor.Wrap(y, [n, k]);
    }
}
