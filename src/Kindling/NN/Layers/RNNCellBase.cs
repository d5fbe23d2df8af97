using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// What <see cref="RNNCell"/>, <see cref="LSTMCell"/> and <see cref="GRUCell"/> share (PyTorch's <c>RNNCellBase</c>):
/// parameters weight_ih (G·H, input_size), weight_hh (G·H, H), bias_ih and bias_hh (G·H), all U(−1/√H, 1/√H). A cell
/// step is the recurrent layer's fused kernel over one time step, so a cell and a one-step layer compute the same bits.
/// </summary>
public abstract class RNNCellBase : Module
{
    public int InputSize { get; }
    public int HiddenSize { get; }
    public bool Bias { get; }
    public Tensor WeightIh { get; }
    public Tensor WeightHh { get; }
    public Tensor? BiasIh { get; }
    public Tensor? BiasHh { get; }
    internal RecurrentMode Kind { get; }

    private protected RNNCellBase(RecurrentMode kind, int inputSize, int hiddenSize, bool bias, Generator? generator, DType dtype)
    {
        string name = GetType().Name;
        if (inputSize <= 0 || hiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{name}: input_size and hidden_size must be positive, got {inputSize} and {hiddenSize}.");
        if (dtype is not (DType.Float32 or DType.Float64)) throw new ArgumentException($"{name}: dtype must be float32 or float64.");
        Kind = kind; InputSize = inputSize; HiddenSize = hiddenSize; Bias = bias;
        int g = kind switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 };
        double k = 1 / Math.Sqrt(hiddenSize);
        Tensor Param(string n, int[] shape)
        {
            var t = RegisterParameter(n, Tensor.Zeros(shape, dtype));
            Init.Uniform_(t, -k, k, generator);
            return t;
        }
        WeightIh = Param("weight_ih", [g * hiddenSize, inputSize]);
        WeightHh = Param("weight_hh", [g * hiddenSize, hiddenSize]);
        if (bias) { BiasIh = Param("bias_ih", [g * hiddenSize]); BiasHh = Param("bias_hh", [g * hiddenSize]); }
    }

    /// <summary>One step: input (B, in) or (in); h, c (B, H) or (H), zeros when null. Returns h' (and c' for LSTM).</summary>
    private protected (Tensor H, Tensor? C) Step(Tensor input, Tensor? h, Tensor? c)
    {
        string name = GetType().Name;
        if (input.Rank is not (1 or 2)) throw new ArgumentException($"{name}: expected input to be 1-D or 2-D, got {input.Rank}-D {input.ShapeString}.");
        if (input.Dims[^1] != InputSize) throw new ArgumentException($"{name}: input has inconsistent input_size: got {input.Dims[^1]} expected {InputSize} (input {input.ShapeString}).");
        if (input.DType != WeightIh.DType) throw new ArgumentException($"{name}: input is {Tensor.DTypeName(input.DType)} but the parameters are {Tensor.DTypeName(WeightIh.DType)}.");
        bool unbatched = input.Rank == 1;
        var x = unbatched ? input.Unsqueeze(0) : input;
        int B = x.Dims[0];
        if (B == 0) throw new ArgumentException($"{name}: the batch is empty (input {input.ShapeString}).");
        Tensor State(Tensor? s, string which)
        {
            if (s == null) return Tensor.Zeros([B, HiddenSize], input.DType);
            int[] want = unbatched ? [HiddenSize] : [B, HiddenSize];
            if (!s.Dims.AsSpan().SequenceEqual(want)) throw new ArgumentException($"{name}: {which} has shape {s.ShapeString}, expected {Tensor.ShapeStr(want)} to match input {input.ShapeString}.");
            if (s.DType != input.DType) throw new ArgumentException($"{name}: {which} is {Tensor.DTypeName(s.DType)} but the input is {Tensor.DTypeName(input.DType)}.");
            return unbatched ? s.Unsqueeze(0) : s;
        }
        var h0 = State(h, "hx");
        var c0 = Kind == RecurrentMode.Lstm ? State(c, "cx") : null;
        var (_, hn, cn) = Functional.RecurrentLayer(Kind, x.Contiguous(), [B], false, h0, c0, WeightIh, WeightHh, BiasIh, BiasHh, null);
        return unbatched ? (hn.Squeeze(0), cn?.Squeeze(0)) : (hn, cn);
    }

    protected override string ExtraRepr() => $"{InputSize}, {HiddenSize}" + (Bias ? "" : ", bias=False");
}
