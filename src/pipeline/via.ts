/**
 * @module The types of `Pipeline.via()`. TypeScript infers a chain of
 * operators left to right only through one generic parameter per stage, so
 * `via` has one overload per length up to 20 (as Effect's `pipe` does):
 * there every operator's input type, and so the parameters of its lambdas,
 * come from the stage before. Past 20, one variadic signature checks each
 * operator's input against the previous operator's output (lambdas there
 * need typed parameters), so a chain of any length type-checks. The file is
 * types only.
 */
import type { Pipeline } from "./pipeline.ts";
import type { Operator } from "./types.ts";

/** The output type of the last operator of `Ops`, or `In` when empty. */
export type ChainOutput<In, Ops extends ReadonlyArray<unknown>> = Ops extends readonly [
  ...ReadonlyArray<unknown>,
  Operator<never, infer Out>,
]
  ? Out
  : In;

/**
 * `Ops` where each operator fits the previous one's output; a misfit is
 * replaced by the operator type that would fit, so the error names the stage.
 */
export type CheckedChain<In, Ops extends ReadonlyArray<unknown>> = Ops extends readonly [
  infer Head,
  ...infer Rest,
]
  ? Head extends Operator<In, infer Out>
    ? readonly [Head, ...CheckedChain<Out, Rest>]
    : readonly [Operator<In, unknown>, ...CheckedChain<unknown, Rest>]
  : readonly [];

export interface Via<A> {
  via<B1>(op1: Operator<A, B1>): Pipeline<B1>;
  via<B1, B2>(op1: Operator<A, B1>, op2: Operator<NoInfer<B1>, B2>): Pipeline<B2>;
  via<B1, B2, B3>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
  ): Pipeline<B3>;
  via<B1, B2, B3, B4>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
  ): Pipeline<B4>;
  via<B1, B2, B3, B4, B5>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
  ): Pipeline<B5>;
  via<B1, B2, B3, B4, B5, B6>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
  ): Pipeline<B6>;
  via<B1, B2, B3, B4, B5, B6, B7>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
  ): Pipeline<B7>;
  via<B1, B2, B3, B4, B5, B6, B7, B8>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
  ): Pipeline<B8>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
  ): Pipeline<B9>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
  ): Pipeline<B10>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
  ): Pipeline<B11>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
  ): Pipeline<B12>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
  ): Pipeline<B13>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
  ): Pipeline<B14>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
    op15: Operator<NoInfer<B14>, B15>,
  ): Pipeline<B15>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
    op15: Operator<NoInfer<B14>, B15>,
    op16: Operator<NoInfer<B15>, B16>,
  ): Pipeline<B16>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
    op15: Operator<NoInfer<B14>, B15>,
    op16: Operator<NoInfer<B15>, B16>,
    op17: Operator<NoInfer<B16>, B17>,
  ): Pipeline<B17>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, B18>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
    op15: Operator<NoInfer<B14>, B15>,
    op16: Operator<NoInfer<B15>, B16>,
    op17: Operator<NoInfer<B16>, B17>,
    op18: Operator<NoInfer<B17>, B18>,
  ): Pipeline<B18>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, B18, B19>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
    op15: Operator<NoInfer<B14>, B15>,
    op16: Operator<NoInfer<B15>, B16>,
    op17: Operator<NoInfer<B16>, B17>,
    op18: Operator<NoInfer<B17>, B18>,
    op19: Operator<NoInfer<B18>, B19>,
  ): Pipeline<B19>;
  via<B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, B18, B19, B20>(
    op1: Operator<A, B1>,
    op2: Operator<NoInfer<B1>, B2>,
    op3: Operator<NoInfer<B2>, B3>,
    op4: Operator<NoInfer<B3>, B4>,
    op5: Operator<NoInfer<B4>, B5>,
    op6: Operator<NoInfer<B5>, B6>,
    op7: Operator<NoInfer<B6>, B7>,
    op8: Operator<NoInfer<B7>, B8>,
    op9: Operator<NoInfer<B8>, B9>,
    op10: Operator<NoInfer<B9>, B10>,
    op11: Operator<NoInfer<B10>, B11>,
    op12: Operator<NoInfer<B11>, B12>,
    op13: Operator<NoInfer<B12>, B13>,
    op14: Operator<NoInfer<B13>, B14>,
    op15: Operator<NoInfer<B14>, B15>,
    op16: Operator<NoInfer<B15>, B16>,
    op17: Operator<NoInfer<B16>, B17>,
    op18: Operator<NoInfer<B17>, B18>,
    op19: Operator<NoInfer<B18>, B19>,
    op20: Operator<NoInfer<B19>, B20>,
  ): Pipeline<B20>;
  /** More than 20 operators: each checked against the one before (type lambdas' parameters here). */
  via<const Ops extends ReadonlyArray<Operator<never, unknown>>>(
    ...ops: Ops & CheckedChain<A, Ops>
  ): Pipeline<ChainOutput<A, Ops>>;
}
