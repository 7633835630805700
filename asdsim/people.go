package asdsim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Word lists of PeopleRecords.
var (
	peopleFirst = strings.Fields(`James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
		William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel
		Nancy Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew
		Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah
		Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy
		Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole
		Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel
		Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth
		Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren
		Kyle Christina Ethan Joan Walter Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl
		Roger Hannah Terry Jacqueline Gerald Martha Harold Gloria Sean Teresa Austin Ann Carl Sara
		Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy Alice
		Joe Julia Bruce Judy Gabriel Sophia Logan Grace Albert Denise Willie Amber Alan Doris Juan Marilyn`)
	peopleLast = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
		Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson
		White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres
		Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez
		Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
		Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
		Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
		Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell
		Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
		Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson
		Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald
		Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson
		Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer`)
	peopleDomains = strings.Fields(`gmail.com yahoo.com hotmail.com outlook.com aol.com icloud.com
		mail.com protonmail.com example.org example.net gmx.de web.de orange.fr libero.it yandex.ru`)
	peopleCities = strings.Fields(`London Paris Berlin Madrid Rome Lisbon Dublin Vienna Prague Warsaw
		Budapest Athens Oslo Stockholm Helsinki Copenhagen Amsterdam Brussels Zurich Geneva Munich
		Hamburg Milan Naples Barcelona Valencia Seville Porto Lyon Marseille Toronto Montreal Vancouver
		Chicago Boston Seattle Denver Austin Dallas Houston Phoenix Atlanta Miami Portland Detroit
		Tokyo Osaka Seoul Beijing Shanghai Singapore Mumbai Delhi Sydney Melbourne Auckland Cairo Lagos
		Nairobi Johannesburg Lima Bogota Santiago Quito Caracas`)
	peopleWords = strings.Fields(`the of and to in is was for on are with as his they be at one have this
		from or had by hot word but what some we can out other were all there when up use your how said
		an each she which do their time if will way about many then them write would like so these her
		long make thing see him two has look more day could go come did number sound no most people my
		over know water than call first who may down side been now find any new work part take get place
		made live where after back little only round man year came show every good me give our under
		name very through just form sentence great think say help low line differ turn cause much mean
		before move right boy old too same tell does set three want air well also play small end put
		home read hand port large spell add even land here must big high such follow act why ask men
		change went light kind off need house picture try us again animal point mother world near build
		self earth father head stand own page should country found answer school grow study still learn
		plant cover food sun four between state keep eye never last let thought city tree cross farm
		hard start might story saw far sea draw left late run while press close night real life few
		north open seem together next white children begin got walk example ease paper group always
		music those both mark often letter until mile river car feet care second book carry took
		science eat room friend began idea fish mountain stop once base hear horse cut sure watch color
		face wood main enough plain girl usual young ready above ever red list though feel talk bird
		soon body dog family direct pose leave song measure door product black short numeral class wind
		question happen complete ship area half rock order fire south problem piece told knew pass since
		top whole king space heard best hour better true during hundred five remember step early hold
		west ground interest reach fast verb sing listen six table travel less morning ten simple
		several vowel toward war lay against pattern slow center love person money serve appear road
		map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark
		machine note wait plan figure star box noun field rest correct able pound done beauty drive
		stood contain front teach week final gave green oh quick develop ocean warm free minute strong`)
	peopleStatus = []string{"active", "inactive", "pending", "suspended", "trial"}
)

// PeopleRecords returns n records (integer keys 0 … n−1) that look like
// the user profiles applications store: names, e-mail addresses, cities,
// a few words of free text, integers, floats and a short random token, the
// values drawn with a fixed seed so that the same n and seed always give
// the same records. Written to a backup they take about 360 bytes of text
// each and compress to about 30% of it, where the synthetic records of
// SeedSynthetic repeat one filler and compress to an eighth.
func PeopleRecords(set string, n int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 0x70e0b1e))
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	recs := make([]Record, n)
	for i := range recs {
		first, last := pick(peopleFirst), pick(peopleLast)
		email := fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), rng.IntN(1000), pick(peopleDomains))
		words := make([]string, 4+rng.IntN(10))
		for j := range words {
			words[j] = pick(peopleWords)
		}
		token := make([]byte, 12)
		binary.LittleEndian.PutUint64(token, rng.Uint64())
		binary.LittleEndian.PutUint32(token[8:], rng.Uint32())
		score := make([]byte, 8)
		binary.BigEndian.PutUint64(score, math.Float64bits(math.Round(rng.Float64()*1e6)/1e2))
		recs[i] = Record{Set: set, Key: IntKey(int64(i)), Bins: []Bin{
			{Name: "first", Type: ParticleString, Data: []byte(first)},
			{Name: "last", Type: ParticleString, Data: []byte(last)},
			{Name: "email", Type: ParticleString, Data: []byte(email)},
			{Name: "city", Type: ParticleString, Data: []byte(pick(peopleCities))},
			{Name: "status", Type: ParticleString, Data: []byte(pick(peopleStatus))},
			IntBin("age", int64(18+rng.IntN(70))),
			IntBin("created", 1600000000+rng.Int64N(150000000)),
			IntBin("visits", int64(rng.ExpFloat64()*40)),
			{Name: "score", Type: ParticleFloat, Data: score},
			{Name: "token", Type: ParticleBlob, Data: token},
			{Name: "about", Type: ParticleString, Data: []byte(strings.Join(words, " "))},
		}}
	}
	return recs
}

// SeedPeople stores PeopleRecords(set, n, seed) in a namespace.
func (s *Server) SeedPeople(namespace, set string, n int, seed uint64) error {
	const batch = 10000
	recs := PeopleRecords(set, n, seed)
	for len(recs) > 0 {
		k := min(batch, len(recs))
		if err := s.PutMany(namespace, recs[:k]); err != nil {
			return err
		}
		recs = recs[k:]
	}
	return nil
}
