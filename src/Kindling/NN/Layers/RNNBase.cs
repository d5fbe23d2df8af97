using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// What <see cref="RNN"/>, <see cref="LSTM"/> and <see cref="GRU"/> share (PyTorch's <c>RNNBase</c>): the options, the
/// parameters under PyTorch's state-dict names and the stacking of layers and directions. Each layer-direction is one
/// fused node (<see cref="Functional.RecurrentLayer"/>); a padded input is a packed batch whose steps all have B rows.
/// </summary>
/// <remarks>
/// Parameters, per layer l and direction (suffix "" or "_reverse"), in PyTorch's order: <c>weight_ih_l{l}</c>
/// (G·H, in), <c>weight_hh_l{l}</c> (G·H, P), <c>bias_ih_l{l}</c>, <c>bias_hh_l{l}</c> (G·H), and for an LSTM with
/// projection <c>weight_hr_l{l}</c> (P, H); G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n); P = proj_size or H;
/// the input of layer l &gt; 0 is P·D wide (D = 2 when bidirectional). All are initialised U(−1/√H, 1/√H).
/// </remarks>
public abstract class RNNBase : Module
{
    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }
    public bool Bias { get; }
    public bool BatchFirst { get; }
    /// <summary>Dropout probability on the outputs of every layer but the last, in training mode.</summary>
    public double Dropout { get; }
    public bool Bidirectional { get; }
    /// <summary>LSTM only: the size h is projected to (0: no projection).</summary>
    public int ProjSize { get; }

    internal RecurrentMode Kind { get; }
    private readonly Tensor?[][] _w; // per layer·D + direction: W_ih, W_hh, b_ih, b_hh, W_hr
    private readonly Generator _generator;
    private int D => Bidirectional ? 2 : 1;
    private int OutSize => ProjSize > 0 ? ProjSize : HiddenSize;

    private protected RNNBase(RecurrentMode kind, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst,
        double dropout, bool bidirectional, int projSize, Generator? generator, DType dtype)
    {
        string name = GetType().Name;
        if (inputSize <= 0 || hiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{name}: input_size and hidden_size must be positive, got {inputSize} and {hiddenSize}.");
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), $"{name}: num_layers must be at least 1, got {numLayers}.");
        if (!(dropout >= 0 && dropout <= 1)) throw new ArgumentOutOfRangeException(nameof(dropout), $"{name}: dropout should be a number in [0, 1] representing the probability of an element being zeroed, got {dropout}.");
        if (projSize < 0) throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: proj_size should be a positive integer or zero to disable projections, got {projSize}.");
        if (projSize >= hiddenSize) throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: proj_size has to be smaller than hidden_size, got proj_size={projSize} and hidden_size={hiddenSize}.");
        if (projSize > 0 && kind != RecurrentMode.Lstm) throw new ArgumentException($"{name}: proj_size is supported only by LSTM.");
        if (dtype is not (DType.Float32 or DType.Float64)) throw new ArgumentException($"{name}: dtype must be float32 or float64.");
        Kind = kind; InputSize = inputSize; HiddenSize = hiddenSize; NumLayers = numLayers; Bias = bias;
        BatchFirst = batchFirst; Dropout = dropout; Bidirectional = bidirectional; ProjSize = projSize;
        _generator = generator ?? Generator.Default;
        int g = kind switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 };
        double k = 1 / Math.Sqrt(hiddenSize);
        _w = new Tensor?[numLayers * D][];
        for (int l = 0; l < numLayers; l++)
            for (int d = 0; d < D; d++)
            {
                string sfx = $"_l{l}" + (d == 1 ? "_reverse" : "");
                int inSize = l == 0 ? inputSize : OutSize * D;
                Tensor Param(string n, int[] shape)
                {
                    var t = RegisterParameter(n + sfx, Tensor.Zeros(shape, dtype));
                    Init.Uniform_(t, -k, k, generator);
                    return t;
                }
                var w = new Tensor?[5];
                w[0] = Param("weight_ih", [g * hiddenSize, inSize]);
                w[1] = Param("weight_hh", [g * hiddenSize, OutSize]);
                if (bias) { w[2] = Param("bias_ih", [g * hiddenSize]); w[3] = Param("bias_hh", [g * hiddenSize]); }
                if (projSize > 0) w[4] = Param("weight_hr", [projSize, hiddenSize]);
                _w[l * D + d] = w;
            }
    }

    /// <summary>
    /// Runs the stack over a padded input: (T, B, in), (B, T, in) with batch_first, or unbatched (T, in). h0 and c0:
    /// (L·D, B, P) and (L·D, B, H) ((L·D, ·) unbatched), zeros when null. Returns the last layer's output (T, B, D·P) in
    /// the input's layout and the final states.
    /// </summary>
    private protected (Tensor Output, Tensor HN, Tensor? CN) RunPadded(Tensor input, Tensor? h0, Tensor? c0)
    {
        string name = GetType().Name;
        CheckInput(input, 3);
        bool unbatched = input.Rank == 2;
        var x = unbatched ? input.Unsqueeze(1) : BatchFirst ? input.Transpose(0, 1) : input;
        int T = x.Dims[0], B = x.Dims[1];
        if (T == 0) throw new ArgumentException($"{name}: the input has no time steps (shape {input.ShapeString}).");
        if (unbatched) { h0 = h0?.Unsqueeze(1); c0 = c0?.Unsqueeze(1); }
        var bs = Enumerable.Repeat(B, T).ToArray();
        var (o, hn, cn) = RunPacked(x.Contiguous().Reshape(T * B, InputSize), bs, h0, c0, unbatched ? 2 : 3);
        var y = o.View(T, B, D * OutSize);
        if (unbatched) return (y.Squeeze(1), hn.Squeeze(1), cn?.Squeeze(1));
        return (BatchFirst ? y.Transpose(0, 1) : y, hn, cn);
    }

    /// <summary>Runs the stack over a packed batch; the states are in the batch's original order, as in PyTorch.</summary>
    private protected (PackedSequence Output, Tensor HN, Tensor? CN) RunPacked(PackedSequence input, Tensor? h0, Tensor? c0)
    {
        CheckInput(input.Data, 2);
        if (input.Data.Rank != 2) throw new ArgumentException($"{GetType().Name}: a packed input's data must be (N, input_size), got {input.Data.ShapeString}.");
        // States come in the caller's batch order; the packed rows are sorted by length.
        if (input.SortedIndices != null) { h0 = h0?.IndexSelect(1, input.SortedIndices); c0 = c0?.IndexSelect(1, input.SortedIndices); }
        var (o, hn, cn) = RunPacked(input.Data, input.BatchSizesArray, h0, c0, 3);
        if (input.UnsortedIndices != null) { hn = hn.IndexSelect(1, input.UnsortedIndices); cn = cn?.IndexSelect(1, input.UnsortedIndices); }
        return (input.WithData(o), hn, cn);
    }

    private void CheckInput(Tensor input, int maxRank)
    {
        string name = GetType().Name;
        var w0 = _w[0][0]!;
        if (input.Rank < 2 || input.Rank > maxRank)
            throw new ArgumentException($"{name}: expected input of rank {(maxRank == 3 ? "3 (T, B, input_size) or 2 (T, input_size) unbatched" : "2 (N, input_size)")}, got {input.ShapeString}.");
        if (input.Dims[^1] != InputSize)
            throw new ArgumentException($"{name}: input.size(-1) must be equal to input_size. Expected {InputSize}, got {input.Dims[^1]} (input {input.ShapeString}).");
        if (input.DType != w0.DType)
            throw new ArgumentException($"{name}: input is {Tensor.DTypeName(input.DType)} but the parameters are {Tensor.DTypeName(w0.DType)}; convert one of them (input.To(...) or create the layer with that dtype).");
    }

    private Tensor CheckState(Tensor? s, int width, int B, DType dtype, string which, int rank)
    {
        int[] want = rank == 3 ? [NumLayers * D, B, width] : [NumLayers * D, width];
        if (s == null) return Tensor.Zeros([NumLayers * D, B, width], dtype);
        if (!s.Dims.AsSpan().SequenceEqual(rank == 3 ? want : [NumLayers * D, 1, width]))
            throw new ArgumentException($"{GetType().Name}: expected {which} size {Tensor.ShapeStr(want)}, got {Tensor.ShapeStr(rank == 3 ? s.Dims : s.Dims.Where((_, i) => i != 1).ToArray())}.");
        if (s.DType != dtype) throw new ArgumentException($"{GetType().Name}: {which} is {Tensor.DTypeName(s.DType)} but the input is {Tensor.DTypeName(dtype)}.");
        return s;
    }

    private (Tensor, Tensor, Tensor?) RunPacked(Tensor data, int[] batchSizes, Tensor? h0, Tensor? c0, int stateRank)
    {
        int B = batchSizes[0];
        bool lstm = Kind == RecurrentMode.Lstm;
        var h = CheckState(h0, OutSize, B, data.DType, lstm ? "hidden[0]" : "hidden", stateRank);
        var c = lstm ? CheckState(c0, HiddenSize, B, data.DType, "hidden[1]", stateRank) : null;
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        var x = data;
        for (int l = 0; l < NumLayers; l++)
        {
            var outs = new Tensor[D];
            for (int d = 0; d < D; d++)
            {
                int i = l * D + d;
                var w = _w[i];
                var (o, hn, cn) = Functional.RecurrentLayer(Kind, x, batchSizes, d == 1, h.Select(0, i), c?.Select(0, i), w[0]!, w[1]!, w[2], w[3], w[4]);
                outs[d] = o; hs.Add(hn); if (cn != null) cs.Add(cn);
            }
            x = D == 1 ? outs[0] : Tensor.Cat(outs, 1);
            if (l < NumLayers - 1 && Dropout > 0 && Training) x = Functional.Dropout(x, Dropout, true, _generator);
        }
        return (x, Tensor.Stack(hs, 0), lstm ? Tensor.Stack(cs, 0) : null);
    }

    /// <summary>The padded forward's output only, so the layer works inside <see cref="Sequential"/>.</summary>
    public override Tensor Forward(Tensor input) => RunPadded(input, null, null).Output;

    protected override string ExtraRepr() =>
        $"{InputSize}, {HiddenSize}" + (ProjSize > 0 ? $", proj_size={ProjSize}" : "") + (NumLayers != 1 ? $", num_layers={NumLayers}" : "")
        + (Bias ? "" : ", bias=False") + (BatchFirst ? ", batch_first=True" : "") + (Dropout != 0 ? $", dropout={Dropout}" : "")
        + (Bidirectional ? ", bidirectional=True" : "");
}
