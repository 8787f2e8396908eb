"""The proposal as an applicant knows it: pydantic models at the boundary.

Every field is optional. A field that is left out is *unknown*, never false:
the engine reasons about unknowns with three-valued (Kleene) logic and asks
for the missing facts that could change the verdict.

The models are exported to ``schemas/proposal.schema.json``; a test fails when
the committed file drifts from these models.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .activities import Activities, Activity, check_activities

ShortText = Annotated[str, StringConstraints(max_length=500)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# Export Control Classification Numbers as used in Annex I of Regulation (EU) 2021/821, e.g. 1C351.
# Category digit, product group A-E, three digits, then optional sub-item parts (.a, .a.1): 1C351, 1C351.a.1, 2B352.
ANNEX_CODE_PATTERN = r"^[0-9][A-E][0-9]{3}(\.[a-z0-9]{1,3})*$"
AnnexCode = Annotated[str, StringConstraints(pattern=ANNEX_CODE_PATTERN, max_length=20)]


class Purpose(StrEnum):
    biomedical_research = "biomedical_research"
    medical_treatment = "medical_treatment"
    agriculture_food = "agriculture_food"
    animal_breeding = "animal_breeding"
    sport_entertainment = "sport_entertainment"
    companion_animal = "companion_animal"
    industrial = "industrial"
    environmental = "environmental"
    fundamental_research = "fundamental_research"
    other = "other"


class Technique(StrEnum):
    none = "none"
    transgenesis = "transgenesis"
    crispr = "crispr"
    genome_editing_other = "genome_editing_other"
    base_editing = "base_editing"
    prime_editing = "prime_editing"
    mitochondrial_replacement = "mitochondrial_replacement"
    cloning = "cloning"
    chimera_formation = "chimera_formation"
    conventional_mutagenesis = "conventional_mutagenesis"
    synthetic_biology = "synthetic_biology"
    gene_drive = "gene_drive"
    viral_vector_gene_transfer = "viral_vector_gene_transfer"


class Status(StrEnum):
    """Where a permit, licence or approval stands."""

    not_applied = "not_applied"
    applied = "applied"
    granted = "granted"
    refused = "refused"


class EmbryoSource(StrEnum):
    spare_ivf = "spare_ivf"
    created_for_research = "created_for_research"


class Recipient(StrEnum):
    human = "human"
    animal = "animal"
    none = "none"


class TransplantSource(StrEnum):
    human = "human"
    animal = "animal"
    none = "none"


class GmoUse(StrEnum):
    none = "none"
    contained = "contained"
    release = "release"


class RiskLevel(StrEnum):
    negligible = "negligible"
    small = "small"
    not_negligible = "not_negligible"


class NgtCategory(StrEnum):
    category_1 = "category_1"
    category_2 = "category_2"
    not_ngt = "not_ngt"


class WmdEndUse(StrEnum):
    """What the exporter knows of a use for weapons of mass destruction (Reg. (EU) 2021/821 art. 4)."""

    informed = "informed"  # the competent authority has informed the exporter
    aware = "aware"  # the exporter knows it without having been informed
    none = "none"


class DualUseItem(StrEnum):
    """Biotechnology items in words; rules/lists.yaml maps them onto Annex I of Reg. (EU) 2021/821."""

    human_animal_pathogen = "human_animal_pathogen"  # 1C351 a-c
    toxin = "toxin"  # 1C351 d
    listed_pathogen_genetic_elements = "listed_pathogen_genetic_elements"  # 1C353 a
    gm_listed_pathogen = "gm_listed_pathogen"  # 1C353 b
    plant_pathogen = "plant_pathogen"  # 1C354
    vaccine_or_immunotoxin = "vaccine_or_immunotoxin"  # 1C991 (EU-only entry)
    biocontainment_or_fermenter_equipment = "biocontainment_or_fermenter_equipment"  # 2B352
    technology_for_listed_items = "technology_for_listed_items"  # 1E001, 1E002, 2E001-2E002
    other_unlisted = "other_unlisted"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Human(Strict):
    embryo: bool | None = Field(None, description="Human embryos are used or created.")
    gametes: bool | None = Field(None, description="Human gametes or germ cells are used.")
    somatic_cells: bool | None = Field(None, description="Human somatic cells or tissue are used.")
    subjects: bool | None = Field(None, description="People take part as research subjects or patients.")
    pregnancy_intended: bool | None = Field(
        None, description="A pregnancy is to be established with the (modified) embryo or gametes."
    )
    embryo_source: EmbryoSource | None = Field(None, description="Where the embryos come from.")
    embryonic_cells: bool | None = Field(
        None,
        description="Human embryonic cells are used (cells taken from an embryo, e.g. embryonic stem cells); "
        "cells reprogrammed from adult tissue (iPS cells) are not counted here.",
    )
    embryo_culture_days: int | None = Field(
        None, ge=0, le=100000, description="Longest in-vitro culture of an embryo, in days."
    )
    protocol_approved: bool | None = Field(
        None, description="The research protocol has a positive opinion of the central committee (CCMO)."
    )
    ethics_approval: bool | None = Field(
        None, description="A medical research ethics committee (METC/CCMO) has approved the research."
    )
    written_consent: bool | None = Field(
        None, description="The woman and her spouse, registered partner or other life companion have consented in "
        "writing to research with embryos aimed at a pregnancy (Embryowet art. 17)."
    )
    supply_to_others: bool | None = Field(
        None, description="Gametes or embryos are supplied to others (another clinic, bank, company or researcher)."
    )
    fee_above_costs: bool | None = Field(
        None, description="The fee asked for supplying gametes or embryos exceeds the costs that result directly from "
        "the acts performed with them (Embryowet art. 27)."
    )
    sex_selection: bool | None = Field(
        None, description="Acts with gametes or embryos aim to choose the sex of a future child."
    )
    sex_linked_disease: bool | None = Field(
        None, description="By sound medical opinion there is a risk of a serious sex-linked hereditary disorder (or "
        "one with an unequal sex incidence) that the sex selection prevents or reduces (Embryowet art. 26(2))."
    )
    derived_gametes_fertilised: bool | None = Field(
        None, description="Gametes derived in vitro (e.g. from stem cells) are fertilised, or used to form an embryo, "
        "other than for a pregnancy."
    )
    embryo_like_structures: bool | None = Field(
        None, description="Embryo-like structures made from stem cells are used (e.g. blastoids, SCBEMs)."
    )
    human_animal_hybrid: bool | None = Field(
        None, description="A human and an animal gamete are brought together with a view to a multicellular hybrid."
    )
    embryo_into_animal: bool | None = Field(None, description="A human embryo is introduced into an animal.")


class Animal(Strict):
    involved: bool | None = Field(None, description="Living animals or animal embryos are used.")
    species: ShortText | None = Field(None, description="Species, for the record (not read by rules).")
    vertebrate: bool | None = Field(None, description="The animals are vertebrates.")
    biotech_licence: Status | None = Field(
        None, description="Licence for biotechnology with animals (Wet dieren art. 2.23)."
    )
    project_licence: Status | None = Field(
        None, description="Project licence for animal experiments (Wet op de dierproeven)."
    )
    human_cells_introduced: bool | None = Field(
        None, description="Human (embryonic or stem) cells are introduced into an animal or animal embryo."
    )
    human_organ_growth: bool | None = Field(
        None, description="Aim: grow human organs or tissue in the animal for transplantation."
    )
    into_embryo: bool | None = Field(
        None, description="The human cells go into an animal embryo (not into a born or adult animal)."
    )
    chimera_days: int | None = Field(
        None, ge=0, le=100000, description="How many days the chimeric embryo is allowed to develop."
    )
    chimera_transferred: bool | None = Field(
        None, description="The chimeric embryo is introduced into an animal or a human (e.g. transferred to a uterus)."
    )
    embryo_into_human: bool | None = Field(None, description="An animal embryo is introduced into a human.")
    cephalopod: bool | None = Field(None, description="The animals are cephalopods (octopus, squid, cuttlefish).")
    early_stage_only: bool | None = Field(
        None,
        description="The animals are used only at an early stage (mammalian embryos or foetuses before the last third "
        "of normal development, larvae not yet feeding independently) and are not meant to live on to a later stage "
        "(Wet op de dierproeven art. 1b(5)-(6)).",
    )
    harmful_gm_line: bool | None = Field(
        None, description="A genetically modified animal line whose modification may cause pain, suffering, distress "
        "or lasting harm is bred or kept."
    )
    modified_elsewhere_only: bool | None = Field(
        None, description="The animals were genetically modified or cloned elsewhere; here they are only imported, "
        "kept or bred, and no biotechnological technique is applied."
    )


class Transplant(Strict):
    source: TransplantSource | None = Field(None, description="Where the transplanted material comes from.")
    living_material: bool | None = Field(None, description="The material consists of living cells, tissue or organs.")
    recipient: Recipient | None = Field(None, description="Who receives the material.")
    contact_with_animal_material: bool | None = Field(
        None, description="Human material has purposely been brought into contact with living animal material."
    )
    in_netherlands: bool | None = Field(
        None, description="The transplantation procedure on the recipient is performed in the Netherlands."
    )


class Plant(Strict):
    involved: bool | None = Field(None, description="Plants are used or produced.")
    ngt_category: NgtCategory | None = Field(
        None, description="Category under the NGT regulation, if the plant came from a new genomic technique."
    )


class Gmo(Strict):
    use: GmoUse | None = Field(None, description="How genetically modified organisms are handled.")
    containment_level: int | None = Field(None, ge=1, le=4, description="Containment level I-IV (Besluit ggo 1.5).")
    risk: RiskLevel | None = Field(
        None, description="Risk to people and the environment according to the environmental risk assessment."
    )
    permit: Status | None = Field(None, description="GMO permit or notification under the Besluit ggo.")
    microorganism: bool | None = Field(None, description="Genetically modified micro-organisms are involved.")
    viral_vector: bool | None = Field(None, description="A viral vector carries genetic material.")
    food_or_feed: bool | None = Field(None, description="The GMO, or a product from it, is meant as food or feed.")


class Medicine(Strict):
    medicinal_product: bool | None = Field(
        None, description="The proposal concerns a medicinal product for human use (including an investigational one)."
    )
    gene_therapy: bool | None = Field(None, description="The product is a gene-therapy medicinal product.")
    atmp: bool | None = Field(None, description="The product is an advanced therapy medicinal product (ATMP).")
    hospital_exemption: bool | None = Field(
        None, description="Prepared non-routinely for one patient in a hospital in the Netherlands."
    )
    named_patient: bool | None = Field(
        None, description="Supplied for an individual patient on a doctor's request (named-patient use) or in a "
        "compassionate-use programme, not placed on the market."
    )
    named_patient_permission: Status | None = Field(
        None, description="IGJ exemption for supplying the product to an individual patient (Geneesmiddelenwet "
        "art. 40(3)(c)) or its compassionate-use programme (art. 40(3)(f))."
    )
    germline_risk: bool | None = Field(
        None, description="The gene therapy may reach the germ line of the subject (e.g. vector found in the gonads)."
    )
    igj_permission: Status | None = Field(
        None, description="Permission of the Health and Youth Care Inspectorate (IGJ) to prepare an ATMP under the "
        "hospital exemption (Geneesmiddelenwet art. 40(3)(d))."
    )
    trial_authorisation: Status | None = Field(None, description="Clinical-trial authorisation (Reg. 536/2014).")
    marketing_authorisation: Status | None = Field(None, description="Marketing authorisation for the product.")
    orphan_condition: bool | None = Field(
        None, description="The condition affects at most 5 in 10,000 people in the EU."
    )


class Partner(Strict):
    name: ShortText | None = None
    country: CountryCode = Field(..., description="ISO 3166-1 alpha-2 country code.")
    institution_type: ShortText | None = None
    listed_entity: bool | None = Field(None, description="The partner is on an EU sanctions or export-control list.")
    military_end_use: bool | None = Field(None, description="The partner has a military end use or end user.")


class Knowledge(Strict):
    sensitive_technology: bool | None = Field(
        None, description="The work involves sensitive knowledge or technology (e.g. a critical technology area)."
    )
    fundamental_rights_concern: bool | None = Field(
        None, description="A partner is in a country where fundamental rights are not respected."
    )
    screening_done: bool | None = Field(None, description="A knowledge-security risk assessment has been done.")
    visiting_researchers_of_concern: bool | None = Field(
        None, description="Researchers or students from a country where fundamental rights are not respected work in "
        "the Dutch lab or get access to the sensitive technology."
    )


class Export(Strict):
    dual_use_items: list[AnnexCode] | None = Field(
        None, max_length=100, description="Annex I codes (Reg. 2021/821) of the items involved; [] for none."
    )
    destination_countries: list[CountryCode] | None = Field(None, max_length=300)
    items: list[DualUseItem] | None = Field(
        None, max_length=20, description="The items in words; mapped onto Annex I codes by rules/lists.yaml."
    )
    intangible_transfer: bool | None = Field(
        None, description="Technology is shared electronically or by technical assistance (intangible transfer)."
    )
    technical_assistance: bool | None = Field(
        None, description="Technical assistance (advice, training, repair, know-how) is given to persons outside the "
        "EU or to third-country residents in the EU (Reg. (EU) 2021/821 art. 2(9)-(10))."
    )
    technology_public_domain: bool | None = Field(
        None, description="The technology shared is in the public domain (available without restriction on its "
        "further spread)."
    )
    technology_basic_research: bool | None = Field(
        None, description="The technology shared is basic scientific research: work to acquire new knowledge, not "
        "primarily directed towards a specific practical aim."
    )
    physical_items: bool | None = Field(
        None, description="Physical items (organisms, material, equipment) are shipped, not only technology."
    )
    annex_iv_item: bool | None = Field(None, description="An item is listed in Annex IV of Reg. (EU) 2021/821.")
    wmd_end_use: WmdEndUse | None = Field(
        None, description="Whether the competent authority has informed the exporter, or the exporter knows, that the "
        "items are or may be meant for chemical, biological or nuclear weapons or their missiles."
    )
    transit_countries: list[CountryCode] | None = Field(
        None, max_length=50, description="Countries the items pass through before their destination."
    )
    onward_supply_to_sanctioned: bool | None = Field(
        None, description="The exporter knows or has reason to think that an intermediary will pass the items on to "
        "a country under an EU ban on dual-use exports."
    )
    licence: Status | None = Field(None, description="Dual-use export authorisation.")


class Proposal(Strict):
    """A biotechnology proposal. Every field may be omitted: omitted means unknown."""

    title: ShortText | None = Field(None, description="A short name, for the record (not read by rules).")
    activity: Activity | Activities | None = Field(
        None, description="What is to be done: one activity, or a list of every one that applies (the law for each "
        "of them applies; the verdict is the strictest).")
    purpose: Purpose | None = Field(None, description="What it is for.")
    technique: Technique | None = Field(None, description="The main technique used.")
    start_date: ShortText | None = Field(None, description="Planned start, for the record.")
    human: Human | None = None
    animal: Animal | None = None
    transplant: Transplant | None = None
    plant: Plant | None = None
    gmo: Gmo | None = None
    medicine: Medicine | None = None
    knowledge: Knowledge | None = None
    partners: list[Partner] | None = Field(None, max_length=100, description="Partners; [] when there are none.")
    export: Export | None = None

    _one_or_several = field_validator("activity", mode="before")(check_activities)


def proposal_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a proposal."""
    schema = Proposal.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://biotoets.example/schemas/proposal.schema.json"
    return schema
