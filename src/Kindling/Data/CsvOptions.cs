namespace Kindling.Data;

/// <summary>What <see cref="CsvTable"/> does with a missing cell (empty or one of <see cref="CsvOptions.MissingTokens"/>).</summary>
public enum MissingValueMode
{
    /// <summary>Throw a <see cref="DataException"/> naming the row and column (the default: silent filling hides data problems).</summary>
    Error,
    /// <summary>Numeric columns: the mean of the column's present values; categorical columns: the most frequent category. Targets are never filled.</summary>
    Mean,
    /// <summary>Numeric columns: 0; categorical columns: all one-hot indicators 0. Targets are never filled.</summary>
    Zero,
    /// <summary>Leave out every row that has a missing cell in any of the columns being used (features or targets).</summary>
    Drop,
    /// <summary>
    /// Leave missing feature cells as NaN (a categorical column's one-hot indicators all NaN) so that fill values can
    /// be fitted later on the training split only, like scikit-learn's <c>SimpleImputer</c> after a split: filling
    /// before splitting (<see cref="Mean"/>) lets test rows shape the fill values. Targets are never filled.
    /// </summary>
    Keep,
}

/// <summary>Whether a target column holds class labels or real values.</summary>
public enum TargetKind
{
    /// <summary>One column of class labels (integers or strings) mapped to int64 indices 0..K−1 in sorted order.</summary>
    Classification,
    /// <summary>One or more numeric columns kept as float32 values: (N) for one column, (N, k) for several.</summary>
    Regression,
}

/// <summary>How <see cref="CsvTable.Load"/> reads a file.</summary>
public sealed record CsvOptions
{
    /// <summary>
    /// Field separator, an ASCII character (',' for CSV, '\t' for TSV, ';' for European-style CSV). Null (the default)
    /// detects it from the first lines among ',', ';', '\t' and '|' (and honours Excel's <c>sep=;</c> first line).
    /// </summary>
    public char? Delimiter { get; init; }

    /// <summary>Lines starting with this character are skipped as comments (e.g. '#'); null (the default): none are.</summary>
    public char? CommentPrefix { get; init; }

    /// <summary>Lines to skip before the header row (title lines above a table); 0 by default.</summary>
    public int SkipRows { get; init; }

    /// <summary>How missing cells are handled when building tensors; <see cref="MissingValueMode.Error"/> by default.</summary>
    public MissingValueMode MissingValues { get; init; } = MissingValueMode.Error;

    /// <summary>Cell texts (after trimming) that mean "missing". The empty cell is always missing.</summary>
    public IReadOnlyCollection<string> MissingTokens { get; init; } = ["NA", "N/A", "NaN", "nan", "null", "NULL", "?"];

    /// <summary>
    /// Columns to one-hot encode even though their values look numeric (codes such as zip codes or product ids).
    /// Other columns are categorical when most of their present values are not numbers.
    /// </summary>
    public IReadOnlyCollection<string> CategoricalColumns { get; init; } = [];

    /// <summary>
    /// Numeric columns held as float64 rather than float32 (8 bytes a row instead of 4): the columns whose exact values
    /// matter beyond the float32 features, typically the target (class labels, <see cref="CsvTable.NumericValues"/>).
    /// Names are matched with the collection's own <c>Contains</c> (a <see cref="HashSet{T}"/> with
    /// <see cref="StringComparer.OrdinalIgnoreCase"/> matches any casing). Other numeric columns still give exact
    /// float64 values when asked, by parsing their text again, so this only saves time; features are the same either way.
    /// </summary>
    public IReadOnlyCollection<string> ExactColumns { get; init; } = [];

    /// <summary>
    /// Read cells the way a spreadsheet shows numbers — "1,234", "3,14" in a ';'-separated file, "45%" (0.45), "$15.00",
    /// "(1,200)" — as those numbers (true by default; see <see cref="SpreadsheetNumber"/> and
    /// <see cref="CsvTable.SpreadsheetColumns"/>). False: such cells are text, and a column of them is categorical.
    /// </summary>
    public bool SpreadsheetNumbers { get; init; } = true;

    /// <summary>Trim spaces around fields (true by default), so "1, 2" reads as 1 and 2.</summary>
    public bool TrimWhitespace { get; init; } = true;
}
