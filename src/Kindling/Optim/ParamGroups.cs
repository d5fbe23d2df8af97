using Kindling.NN;

namespace Kindling.Optim;

/// <summary>Parameter groups built by a rule instead of by hand.</summary>
public static class ParamGroups
{
    /// <summary>
    /// Two groups: the parameters for which <paramref name="decays"/>(name, tensor) is true get
    /// <paramref name="weightDecay"/>, the others 0 — in that order, each in the model's parameter order. Tied
    /// parameters appear once (<see cref="Module.NamedParameters"/> lists a shared tensor under its first name).
    /// </summary>
    public static ParamGroup[] ByRule(IEnumerable<(string Name, Tensor Parameter)> namedParameters, Func<string, Tensor, bool> decays, double weightDecay)
    {
        var decay = new List<Tensor>();
        var none = new List<Tensor>();
        foreach (var (n, p) in namedParameters) (decays(n, p) ? decay : none).Add(p);
        return [new ParamGroup(decay, weightDecay: weightDecay), new ParamGroup(none, weightDecay: 0)];
    }

    /// <summary>
    /// nanoGPT's <c>configure_optimizers</c>: weight decay on every parameter with 2 or more dimensions (matmul weights and
    /// embeddings), none on biases and LayerNorm gains (1-D).
    /// </summary>
    public static ParamGroup[] DecayMatricesOnly(Module model, double weightDecay) =>
        ByRule(model.NamedParameters(), (_, p) => p.Rank >= 2, weightDecay);
}
