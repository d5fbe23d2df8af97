namespace Kindling.NN;

/// <summary>
/// One GRU step (PyTorch's <c>nn.GRUCell</c>), gates (r, z, n) as in <see cref="GRU"/>. input (B, in) or (in); hx (B, H)
/// or (H), zeros when null → h'.
/// </summary>
public sealed class GRUCell : RNNCellBase
{
    public GRUCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
        : base(Kernels.RecurrentMode.Gru, inputSize, hiddenSize, bias, generator, dtype) { }

    public Tensor Forward(Tensor input, Tensor? hx) => Step(input, hx, null).H;

    public override Tensor Forward(Tensor input) => Forward(input, null);
}
