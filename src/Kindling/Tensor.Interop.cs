namespace Kindling;

public sealed partial class Tensor
{
    /// <summary>The elements as a dense array of T (the storage itself when it already is exactly that; never write to it).</summary>
    internal T[] DenseData<T>() where T : unmanaged
    {
        var c = Detach().Contiguous();
        var arr = (T[])c.Storage.Data;
        if (c.Offset == 0 && arr.Length == c.NumEl) return arr;
        return c.Span<T>().ToArray();
    }

    /// <summary>Wraps an array (no copy) as a tensor of the matching dtype.</summary>
    internal static Tensor Wrap<T>(T[] data, int[] shape) where T : unmanaged
    {
        var dt = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64
            : typeof(T) == typeof(long) ? DType.Int64 : typeof(T) == typeof(byte) ? DType.UInt8 : DType.Bool;
        return new Tensor(data, shape, dt);
    }

    /// <summary>Moves dimension <paramref name="source"/> to position <paramref name="destination"/> (a view; PyTorch's <c>movedim</c>).</summary>
    public Tensor Movedim(int source, int destination)
    {
        int s = NormDim(source, Rank, "movedim"), d = NormDim(destination, Rank, "movedim");
        var order = Enumerable.Range(0, Rank).Where(i => i != s).ToList();
        order.Insert(d, s);
        return Permute(order.ToArray());
    }
}
