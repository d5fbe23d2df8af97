using Kindling.Data;

namespace Kindling.Cli;

/// <summary>
/// One split of the data (training, validation, test, or a file to evaluate) as a view of the one loaded copy, like
/// <c>torch.utils.data.Subset</c>: row indices into <see cref="Source"/>, an optional choice of its columns, the
/// preparation fitted on the training split (fill values, standardisation), and the split's own targets. Nothing is
/// copied when a split is made; each row is gathered, converted (uint8 pixels / 255), filled and standardised only as a
/// batch is collated, so a run holds its features once — 47 MB of bytes for Fashion-MNIST rather than several 188 MB
/// float32 copies (see README, "How much memory").
/// </summary>
/// <remarks>Not thread-safe: rows are prepared in a scratch row owned by the set (one enumerating thread, as
/// <see cref="DataLoader"/> collates).</remarks>
public sealed class RowSet : Dataset
{
    private readonly int[]? _rows;
    private readonly int[]? _columns;
    private readonly float[]? _scratch;
    private readonly int _features;
    private readonly int[] _featureShape;
    private readonly long[]? _yLong;
    private readonly float[]? _yFloat;
    private readonly int _rowY;

    /// <param name="source">All rows of the loaded data (its features may be uint8 with a divisor).</param>
    /// <param name="rows">The rows of this split, in order; null for all of <paramref name="source"/>'s rows.</param>
    /// <param name="columns">The source columns to keep, in order; null for all.</param>
    /// <param name="targets">This split's targets, one per row: int64 (n) labels or float32 (n) / (n, k) values.</param>
    /// <param name="prep">Fill and scaling to apply to each row (null: the raw values).</param>
    /// <param name="what">How errors name the set (e.g. "test data").</param>
    public RowSet(Dataset source, int[]? rows, int[]? columns, Tensor targets, Preprocessing? prep, string what)
    {
        if (source.FeatureShape.Length != 1) throw new ArgumentException($"RowSet: features must be flat rows, got {Tensor.ShapeStr(source.FeatureShape)}.");
        int n = rows?.Length ?? source.Count;
        if (targets.Size(0) != n) throw new ArgumentException($"RowSet: {targets.Size(0)} targets for {n} rows.");
        Source = source; _rows = rows; _columns = columns; Prep = prep; What = what;
        _features = columns?.Length ?? source.FeatureSize;
        _featureShape = [_features];
        if (columns != null) _scratch = new float[source.FeatureSize];
        Targets = targets;
        _rowY = n == 0 ? 1 : Math.Max(1, targets.NumEl / n);
        if (targets.DType == DType.Int64) _yLong = targets.ToInt64Array();
        else _yFloat = targets.ToArray();
    }

    /// <summary>The loaded data this set is a view of.</summary>
    public Dataset Source { get; }
    /// <summary>Fill and scaling applied to each row as it is copied out.</summary>
    public Preprocessing? Prep { get; }
    /// <summary>This set's targets, one per row.</summary>
    public Tensor Targets { get; }
    /// <summary>How errors name this set.</summary>
    public string What { get; }

    /// <summary>The same rows and columns with other preparation (or other targets).</summary>
    public RowSet With(Preprocessing? prep, Tensor? targets = null) => new(Source, _rows, _columns, targets ?? Targets, prep, What);

    /// <summary>Keeps only <paramref name="columns"/> (indices into this set's columns).</summary>
    public RowSet SelectColumns(int[] columns) =>
        new(Source, _rows, columns.Select(j => _columns?[j] ?? j).ToArray(), Targets, Prep, What);

    /// <summary>Size of the (N, F) matrix this set stands for, like <see cref="Tensor.Size"/>: 0 → rows, 1 → features.</summary>
    public int Size(int dim) => dim switch
    {
        0 => Count,
        1 or -1 => _features,
        _ => throw new ArgumentOutOfRangeException(nameof(dim), $"RowSet.Size: a set of rows is (N, F); dimension {dim} does not exist."),
    };

    /// <summary>The row of <see cref="Source"/> that sample <paramref name="index"/> is.</summary>
    public int SourceRow(int index) => _rows?[index] ?? index;

    public override int Count => _rows?.Length ?? Source.Count;
    public override int[] FeatureShape => (int[])_featureShape.Clone();
    public override int[] TargetShape => Targets.Shape[1..];
    public override DType TargetDType => Targets.DType;

    public override void CopyFeatures(int index, Span<float> destination)
    {
        CheckIndex(index);
        int r = SourceRow(index);
        if (_columns == null) Source.CopyFeatures(r, destination);
        else
        {
            Source.CopyFeatures(r, _scratch);
            for (int j = 0; j < _columns.Length; j++) destination[j] = _scratch![_columns[j]];
        }
        Prep?.ApplyRow(destination[.._features], What);
    }

    public override void CopyTarget(int index, Span<long> destination)
    {
        if (_yLong == null) { base.CopyTarget(index, destination); return; }
        CheckIndex(index);
        _yLong.AsSpan(index * _rowY, _rowY).CopyTo(destination);
    }

    public override void CopyTarget(int index, Span<float> destination)
    {
        if (_yFloat == null) { base.CopyTarget(index, destination); return; }
        CheckIndex(index);
        _yFloat.AsSpan(index * _rowY, _rowY).CopyTo(destination);
    }

    /// <summary>Rows <paramref name="start"/>..start+count as one prepared float32 (count, F) batch.</summary>
    public Tensor Batch(int start, int count)
    {
        var idx = new int[count];
        for (int i = 0; i < count; i++) idx[i] = start + i;
        return DataLoader.Collate(this, idx).X;
    }

    /// <summary>Every row as one prepared (N, F) float32 matrix: for small sets only (it is the copy the view avoids).</summary>
    public Tensor ToTensor() => Count == 0 ? Tensor.Zeros(0, _features) : Batch(0, Count);

    /// <summary>
    /// The raw feature values of every row (after column selection, before preparation), one row at a time in a reused
    /// buffer: for fitting statistics on a split without materialising it.
    /// </summary>
    public IEnumerable<float[]> RawRows()
    {
        var raw = With(null);
        var row = new float[_features];
        for (int i = 0; i < raw.Count; i++)
        {
            raw.CopyFeatures(i, row);
            yield return row;
        }
    }
}
